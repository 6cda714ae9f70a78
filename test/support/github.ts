// GitHub webhook deliveries as GitHub sends them: the documented payload shapes of `ping`, `push`
// and `pull_request` (only the fields' shapes are real, the values are the test's), signed with
// X-Hub-Signature-256 = "sha256=" + HMAC-SHA256(secret, body) over the exact bytes sent.
import { createHmac, randomUUID } from "node:crypto";

export const sign = (secret: string, body: string) => "sha256=" + createHmac("sha256", secret).update(body).digest("hex");

/** A repository object as GitHub puts it in every event; `cloneUrl` is where the test's git server serves it. */
export function repository(fullName: string, cloneUrl: string) {
  const [owner, name] = fullName.split("/");
  return {
    id: 1296269,
    node_id: "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
    name,
    full_name: fullName,
    private: false,
    owner: { login: owner, id: 1, node_id: "MDQ6VXNlcjE=", type: "User", site_admin: false },
    html_url: `https://github.com/${fullName}`,
    description: "This your first repo!",
    fork: false,
    url: `https://api.github.com/repos/${fullName}`,
    git_url: `git://github.com/${fullName}.git`,
    ssh_url: `git@github.com:${fullName}.git`,
    clone_url: cloneUrl,
    svn_url: `https://github.com/${fullName}`,
    default_branch: "main",
    pushed_at: 1700000000,
    created_at: 1600000000,
    updated_at: "2024-01-26T19:14:43Z",
  };
}

const sender = { login: "octocat", id: 583231, node_id: "MDQ6VXNlcjU4MzIzMQ==", type: "User", site_admin: false };

export function pingPayload(repo: ReturnType<typeof repository>) {
  return {
    zen: "Design for failure.",
    hook_id: 30,
    hook: { type: "Repository", id: 30, name: "web", active: true, events: ["push", "pull_request"], config: { content_type: "json", insecure_ssl: "0", url: "https://ancla.example/api/v1/integrations/github/hooks" } },
    repository: repo,
    sender,
  };
}

export function pushPayload(repo: ReturnType<typeof repository>, ref: string, before: string, after: string, opts: { deleted?: boolean } = {}) {
  const commit = { id: after, tree_id: "f9d2a07e9488b91af2641b26b9407fe22a451433", distinct: true, message: "Update README", timestamp: "2024-01-26T19:14:43Z", url: `https://github.com/${repo.full_name}/commit/${after}`, author: { name: "Octo Cat", email: "octocat@github.com", username: "octocat" }, committer: { name: "GitHub", email: "noreply@github.com", username: "web-flow" }, added: [], removed: [], modified: ["README.md"] };
  return {
    ref,
    before,
    after,
    repository: repo,
    pusher: { name: "octocat", email: "octocat@github.com" },
    sender,
    created: false,
    deleted: opts.deleted ?? false,
    forced: false,
    base_ref: null,
    compare: `https://github.com/${repo.full_name}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits: opts.deleted ? [] : [commit],
    head_commit: opts.deleted ? null : commit,
  };
}

export function pullRequestPayload(repo: ReturnType<typeof repository>, action: string, number: number, headSha: string, opts: { merged?: boolean; headRef?: string } = {}) {
  const state = action === "closed" ? "closed" : "open";
  return {
    action,
    number,
    pull_request: {
      url: `https://api.github.com/repos/${repo.full_name}/pulls/${number}`,
      id: 279147437,
      node_id: "MDExOlB1bGxSZXF1ZXN0Mjc5MTQ3NDM3",
      html_url: `https://github.com/${repo.full_name}/pull/${number}`,
      number,
      state,
      locked: false,
      title: "Update the README with new information.",
      user: sender,
      body: "This is a pretty simple change that we need to pull into main.",
      merged: opts.merged ?? false,
      head: { label: `octocat:${opts.headRef ?? "feature"}`, ref: opts.headRef ?? "feature", sha: headSha, user: sender, repo },
      base: { label: "octocat:main", ref: "main", sha: "0".repeat(39) + "1", user: sender, repo },
    },
    repository: repo,
    sender,
  };
}

/** Headers and body of one delivery (a fresh X-GitHub-Delivery unless given). */
export function delivery(event: string, payload: unknown, secret: string | null, deliveryId: string = randomUUID()) {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/044aadd",
    "x-github-event": event,
    "x-github-delivery": deliveryId,
    "x-github-hook-id": "30",
  };
  if (secret !== null) headers["x-hub-signature-256"] = sign(secret, body);
  return { body, headers, deliveryId };
}
