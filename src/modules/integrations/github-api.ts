// Commit statuses on GitHub (or GitHub Enterprise at --github-api-url) for previews, only when
// --github-token is set. Failures are logged, never fatal: a preview does not depend on GitHub.
import type { Deps } from "../../deps";

const FULL_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export async function postCommitStatus(deps: Deps, repository: string, sha: string, state: "pending" | "success" | "failure" | "error", description: string, host?: string): Promise<boolean> {
  const token = deps.config.githubToken;
  if (!token || !FULL_NAME.test(repository) || !/^[0-9a-f]{40}$/.test(sha)) return false;
  const url = `${deps.config.githubApiUrl.replace(/\/+$/, "")}/repos/${repository}/statuses/${sha}`;
  const body = { state, description: description.slice(0, 140), context: "ancla/preview", ...(host ? { target_url: `http://${host}` } : {}) };
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28", "content-type": "application/json", "user-agent": "ancla" },
      body: JSON.stringify(body),
      redirect: "error",
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) deps.logger.warn("GitHub commit status refused", { repository, status: res.status });
    return res.ok;
  } catch (e) {
    deps.logger.warn("GitHub commit status failed", { repository, error: (e as Error).message });
    return false;
  }
}
