// Routes: /api/v1/integrations/* — health (no auth), the GitHub webhook (signature-verified, no
// user), and per project /api/v1/orgs/{org}/projects/{project}/webhooks (settings, deliveries).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { BadRequest } from "../../errors";
import { JSON_LIMIT, keepStream, readBodyLimited } from "../../lib/body-limit";
import { withActor } from "../auth/context";
import { deployKeyView, gitTokenRequest, serviceParams } from "./model";
import { serviceAccess } from "../services/access";
import * as git from "./git-credentials";
import * as previews from "./previews";
import { previewSettingsRequest, previewsResponse } from "./model";
import { deliveriesQuery, deliveryList, deliveryParams, dockerTokenResponse, projectParams, redeliverResponse, setSecretRequest, signingCertResponse, webhookResponse, webhookSettings } from "./model";
import * as settings from "./settings";
import { receiveDelivery } from "./webhooks";
import { issueToken, signingCertificate } from "./docker-auth";

// the signature covers the raw bytes: the route reads the body itself (see images/index.ts)

const hooks = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/integrations", detail: { tags: ["integrations"] } })
    .get("/health", () => ({ status: "ok" }), {
      response: { 200: z.object({ status: z.string() }) },
      detail: { summary: "Liveness probe", security: [] },
    })
    .post(
      "/github/hooks",
      async ({ request, set }) => {
        const body = await readBodyLimited(request, JSON_LIMIT, "Webhook body larger than 1 MiB.");
        const h = request.headers;
        const answer = receiveDelivery(deps, {
          event: h.get("x-github-event") ?? "",
          deliveryId: h.get("x-github-delivery") ?? "",
          signature: h.get("x-hub-signature-256"),
          body,
          contentType: (h.get("content-type") ?? "").toLowerCase(),
        });
        set.status = 201;
        return answer;
      },
      { parse: keepStream, response: { 201: webhookResponse }, detail: { summary: "GitHub webhook (push deploys, pull request previews)", security: [] } },
    )
    // the registry token protocol: GET with basic auth; POST is its OAuth2 form (grant_type=password)
    .get(
      "/docker/auth",
      async ({ request, set }) => {
        const q = new URL(request.url).searchParams;
        const answer = await issueToken(deps, { authorization: request.headers.get("authorization"), service: q.get("service") ?? undefined, account: q.get("account") ?? undefined, scopes: q.getAll("scope") });
        set.status = 201;
        return answer;
      },
      { response: { 201: dockerTokenResponse }, detail: { summary: "Registry token (Docker token auth: username + API key as basic auth)", security: [] } },
    )
    .post(
      "/docker/auth",
      async ({ request, body, set }) => {
        const form = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
        const str = (k: string) => (typeof form[k] === "string" ? (form[k] as string) : undefined);
        if (str("grant_type") !== "password") throw new BadRequest("Only grant_type=password is supported (username and an API key as password).");
        const basic = "Basic " + Buffer.from(`${str("username") ?? ""}:${str("password") ?? ""}`).toString("base64");
        const answer = await issueToken(deps, { authorization: basic, service: str("service"), account: str("username"), scopes: str("scope") ? [str("scope")!] : [] });
        set.status = 201;
        return { ...answer, scope: str("scope") ?? "" };
      },
      { response: { 201: dockerTokenResponse.extend({ scope: z.string() }) }, detail: { summary: "Registry token, OAuth2 password grant form", security: [] } },
    )
    .get("/signing-cert", () => signingCertificate(deps), {
      response: { 200: signingCertResponse },
      detail: { summary: "PEM certificate of the registry token signing key (the registry's rootcertbundle)", security: [] },
    });

const projectWebhooks = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project/webhooks", detail: { tags: ["integrations"] } })
    .use(withActor(deps))
    .get("/", ({ actor, params: p }) => settings.webhookSettings(deps, actor, p.org, p.project), {
      params: projectParams,
      response: { 200: webhookSettings },
      detail: { summary: "The project's GitHub webhook: URL, events, whether a secret is set" },
    })
    .post("/secret", ({ actor, params: p, body }) => settings.setWebhookSecret(deps, actor, p.org, p.project, body?.secret), {
      params: projectParams,
      body: setSecretRequest,
      response: { 200: webhookSettings },
      detail: { summary: "Set or generate the project's webhook secret (shown once; org admins)" },
    })
    .delete("/secret", ({ actor, params: p }) => settings.deleteWebhookSecret(deps, actor, p.org, p.project), {
      params: projectParams,
      response: { 200: webhookSettings },
      detail: { summary: "Remove the project's webhook secret (org admins)" },
    })
    .get("/deliveries", ({ actor, params: p, query }) => settings.listDeliveries(deps, actor, p.org, p.project, query.limit), {
      params: projectParams,
      query: deliveriesQuery,
      response: { 200: deliveryList },
      detail: { summary: "Recorded webhook deliveries of the project, newest first" },
    })
    .post("/deliveries/:id/redeliver", ({ actor, params: p, set }) => ((set.status = 201), settings.redeliver(deps, actor, p.org, p.project, p.id)), {
      params: deliveryParams,
      response: { 201: redeliverResponse },
      detail: { summary: "Replay a recorded push delivery as the calling user" },
    });

const serviceGit = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project/envs/:env/services/:svc", detail: { tags: ["integrations"] } })
    .use(withActor(deps))
    .get("/deploy-key", ({ actor, params: p }) => git.deployKeyView(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc).service.id), {
      params: serviceParams,
      response: { 200: deployKeyView },
      detail: { summary: "The service's deploy key (public half), pinned host keys, whether an HTTPS token is set" },
    })
    .post("/deploy-key", async ({ actor, params: p, set }) => ((set.status = 201), await git.createDeployKey(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc))), {
      params: serviceParams,
      response: { 201: deployKeyView },
      detail: { summary: "Generate an SSH deploy key (add the public key to the repository; the private key is never shown)" },
    })
    .delete("/deploy-key", ({ actor, params: p }) => git.deleteDeployKey(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc)), {
      params: serviceParams,
      response: { 200: deployKeyView },
      detail: { summary: "Remove the deploy key and its pinned host keys" },
    })
    .delete("/deploy-key/known-hosts", ({ actor, params: p }) => git.resetKnownHosts(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc)), {
      params: serviceParams,
      response: { 200: deployKeyView },
      detail: { summary: "Forget the pinned SSH host keys (the next clone pins the host's key again)" },
    })
    .post("/git-token", ({ actor, params: p, body }) => git.setHttpsToken(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), body.token), {
      params: serviceParams,
      body: gitTokenRequest,
      response: { 200: deployKeyView },
      detail: { summary: "Store an HTTPS token for cloning the private repository (sealed, never shown)" },
    })
    .delete("/git-token", ({ actor, params: p }) => git.setHttpsToken(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), null), {
      params: serviceParams,
      response: { 200: deployKeyView },
      detail: { summary: "Remove the HTTPS token" },
    });

const projectPreviews = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project/previews", detail: { tags: ["integrations"] } })
    .use(withActor(deps))
    .get("/", ({ actor, params: p }) => ({ ...previews.previewSettings(deps, actor, p.org, p.project), ...previews.listPreviews(deps, actor, p.org, p.project) }), {
      params: projectParams,
      response: { 200: previewsResponse },
      detail: { summary: "Preview settings of the project and its preview environments (status, URLs)" },
    })
    .patch("/", ({ actor, params: p, body }) => ({ ...previews.setPreviewSettings(deps, actor, p.org, p.project, body), ...previews.listPreviews(deps, actor, p.org, p.project) }), {
      params: projectParams,
      body: previewSettingsRequest,
      response: { 200: previewsResponse },
      detail: { summary: "Enable previews, choose the source environment and the idle TTL (org admins)" },
    });

export const integrationRoutes = (deps: Deps) => new Elysia().use(hooks(deps)).use(projectWebhooks(deps)).use(serviceGit(deps)).use(projectPreviews(deps));
