// A service's hostnames and their HTTPS certificates (from the service detail's `certificates`):
// pending, issued with its expiry, or failed with the CA's (or the domain check's) reason.
import { empty, h, table, when } from "../../dom";

export type DomainRow = {
  hostname: string;
  kind: "generated" | "custom";
  url: string;
  certificate: { status: "pending" | "issued" | "failed"; expires_at: string | null; error: string | null; next_attempt_at: string | null } | null;
};

function certificateText(d: DomainRow): string {
  const c = d.certificate;
  if (!c) return "no HTTPS";
  if (c.status === "issued") return `issued, expires ${when(c.expires_at)}`;
  if (c.status === "failed") return "failed";
  return "pending";
}

/** `detail`: the service detail; its additive `certificates` field is what is shown. */
export function domainsPanel(detail: object): HTMLElement {
  const rows = ((detail as { certificates?: DomainRow[] }).certificates ?? []).map((d) => [
    h("a", { href: d.url, target: "_blank", rel: "noopener noreferrer" }, d.hostname),
    d.kind,
    h("span", { class: `cert-state ${d.certificate?.status ?? "none"}` }, certificateText(d)),
    d.certificate?.error ? `${d.certificate.error}${d.certificate.next_attempt_at ? ` — next attempt ${when(d.certificate.next_attempt_at)}` : ""}` : "",
  ]);
  return rows.length ? table(["Hostname", "Kind", "Certificate", "Problem"], rows, "Hostnames and HTTPS certificates") : empty("No hostnames.");
}
