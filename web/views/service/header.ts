// The service page's status header: live release (image, commit), replicas running/healthy, the
// last deploy's time and duration, the URL, and the Deploy menu. Redrawn in place on every change.
import { api, paths } from "../../api";
import { ago, button, duration, h, notify, replace } from "../../dom";
import { isActive, type Live, type Run } from "./state";

type Info = { domain: string; router_port: number | null };

export function appUrls(svc: Live["detail"], c: Live["ctx"], isDefault: boolean, info: Info | null): { links: string[]; hosts: string[] } {
  if (svc.url) return { links: [svc.url], hosts: [] };
  if (!info) return { links: [], hosts: [] };
  const hosts = [isDefault ? `${svc.slug}.${c.project}.${c.org}.${info.domain}` : `${svc.slug}.${c.env}.${c.project}.${c.org}.${info.domain}`, ...svc.domains];
  if (info.router_port === null) return { links: [], hosts };
  const port = info.router_port === 80 ? "" : `:${info.router_port}`;
  return { links: hosts.map((host) => `http://${host}${port}/`), hosts };
}

function badge(live: Live): HTMLElement {
  const s = live.status;
  const dep = s?.deploy;
  if (isActive(s)) {
    const stage = s!.build && ["queued", "running"].includes(s!.build.status) ? "Building" : "Deploying";
    return h("span", { class: "badge running" }, `${stage}…`);
  }
  if (!dep) return h("span", { class: "badge none" }, "Not deployed");
  if (dep.status === "error") return h("span", { class: "badge error" }, live.activity?.live_release_version ? "Last deploy failed" : "Deploy failed");
  return h("span", { class: "badge ok" }, "Live");
}

function lastDeploy(runs: Run[]): Run | undefined {
  return runs.find((r) => r.kind !== "build" && r.kind !== "scale" && r.status !== "queued");
}

/** Deploy actions. `after` runs once one was accepted (the page then polls at once). */
function deployMenu(live: Live, after: () => void): HTMLElement {
  const c = live.ctx;
  const target = { service: c.service, env: c.env };
  const act = (label: string, fn: () => Promise<string>, hint: string) =>
    h(
      "li",
      null,
      button(label, async () => {
        menu.open = false;
        notify(await fn());
        after();
      }),
      h("small", null, hint),
    );
  const liveVersion = live.activity?.live_release_version ?? null;
  const menu = h(
    "details",
    { class: "menu" },
    h("summary", { class: "button primary" }, "Deploy"),
    h(
      "ul",
      { class: "menu-items" },
      act(
        "Rebuild and deploy",
        async () => {
          await api.post(`${paths.projectH(c.org, c.project)}/pipeline/deploy?${paths.qs(target)}`, target);
          return "Build started.";
        },
        "Build again from the last upload, the Git URL or the image, then deploy.",
      ),
      act(
        "Deploy current image with new config",
        async () => {
          const r = await api.post<{ id: string; version: number }>(`/api/v1/releases/${live.detail.id}/create`, {});
          await api.post(`${c.base}/deploy`, { version: r.version });
          return `Release v${r.version} created; deploying.`;
        },
        "A new release of the latest image with today's config; no build.",
      ),
      liveVersion
        ? act(
            "Restart",
            async () => {
              await api.post(`${c.base}/deploy`, { version: liveVersion });
              return `Restarting release v${liveVersion}.`;
            },
            "Start fresh replicas of the live release, then retire the old ones.",
          )
        : null,
    ),
  );
  return menu;
}

export function statusHeader(live: Live, opts: { isDefault: boolean; info: Info | null; onAction: () => void }): HTMLElement {
  const box = h("header", { class: "svc-head", "aria-label": "Service status" });
  const draw = () => {
    // a redraw while the Deploy menu is open keeps it open
    const menuWasOpen = Boolean(box.querySelector<HTMLDetailsElement>("details.menu")?.open);
    const d = live.detail;
    const runs = live.activity?.items ?? [];
    const liveVersion = live.activity?.live_release_version ?? null;
    const liveRun = runs.find((r) => r.id === live.activity?.live_deployment_id);
    const replicas = d.replicas ?? [];
    const running = replicas.filter((r) => r.state === "running").length;
    const healthy = replicas.filter((r) => r.state === "running" && r.in_rotation !== false).length;
    const wanted = Object.values(d.process_counts).reduce((a, b) => a + b, 0);
    const last = lastDeploy(runs);
    const urls = appUrls(d, live.ctx, opts.isDefault, opts.info);
    const rel = d.latest_release as { version?: number; image?: { version?: number; ref?: string }; commit_sha?: string | null } | null;
    const relIsLive = rel?.version === liveVersion;
    const mayDeploy = !live.ctx.protectedEnv || live.ctx.admin;
    replace(
      box,
      h("div", { class: "title-row" }, h("h1", null, d.name), badge(live), mayDeploy ? Object.assign(deployMenu(live, opts.onAction), { open: menuWasOpen }) : h("span", { class: "hint" }, "Protected environment: only organization admins deploy.")),
      h(
        "dl",
        { class: "facts" },
        h("div", null, h("dt", null, "Live release"), h("dd", null, liveVersion ? [`v${liveVersion}`, relIsLive && rel?.image?.version ? ` · image v${rel.image.version}` : liveRun?.image_version ? ` · image v${liveRun.image_version}` : "", relIsLive && rel?.commit_sha ? [" · ", h("code", null, rel.commit_sha.slice(0, 7))] : ""] : "none")),
        h("div", null, h("dt", null, "Replicas"), h("dd", null, `${running}/${wanted} running`, replicas.some((r) => r.in_rotation !== null) ? `, ${healthy} healthy` : "")),
        h("div", null, h("dt", null, "Last deploy"), h("dd", null, last ? `${ago(last.finished ?? last.created)}${last.duration_seconds !== null ? `, took ${duration(last.duration_seconds)}` : ""}${last.status === "error" ? " (failed)" : last.status === "running" ? " (running)" : ""}` : "never")),
        h(
          "div",
          { class: "urls" },
          h("dt", null, "URL"),
          h("dd", null, urls.links.length ? urls.links.map((u, i) => [i ? ", " : "", h("a", { href: u, target: "_blank", rel: "noopener noreferrer" }, u)]) : urls.hosts.length ? [urls.hosts.map((host, i) => [i ? ", " : "", h("code", null, host)]), " (on the router's port)"] : "unknown until the server reports its router address."),
        ),
      ),
    );
  };
  draw();
  live.subscribe(draw);
  return box;
}
