// `ancla domains [org/project/env/service]`: a service's hostnames and their HTTPS certificates
// (pending, issued with expiry, failed with the CA's or the domain check's reason).
import { noExtraArgs } from "../args";
import { clientFor } from "../client";
import { command, type CommandTable } from "../context";
import type { Column } from "../render";
import { servicePath, serviceTarget, TARGET } from "./deploy";

type Certificate = { status: string; expires_at: string | null; error: string | null; next_attempt_at: string | null };
type DomainRow = { hostname: string; kind: string; url: string; certificate: Certificate | null };
type DomainsView = { https: boolean; https_redirect: boolean; hsts: boolean; domains: DomainRow[] };

const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : null);

const columns: Column<DomainRow>[] = [
  { header: "HOSTNAME", get: (d) => d.hostname },
  { header: "KIND", get: (d) => d.kind },
  { header: "CERTIFICATE", get: (d) => d.certificate?.status ?? "none (no --https or a .localhost name)" },
  { header: "EXPIRES", get: (d) => day(d.certificate?.expires_at) },
  { header: "URL", get: (d) => d.url },
  { header: "ERROR", get: (d) => (d.certificate?.error ? `${d.certificate.error}${d.certificate.next_attempt_at ? ` (retry ${d.certificate.next_attempt_at})` : ""}` : null) },
];

export const domainCommands: CommandTable = {
  domains: command({
    summary: "Show a service's hostnames and the state of their HTTPS certificates",
    usage: "domains [org/project/env/service]",
    options: TARGET,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = serviceTarget(ctx, ctx.args[0]);
      const view = await clientFor(ctx).get<DomainsView>(`${servicePath(t)}/domains`);
      return { kind: "table", rows: view.domains, columns, data: view };
    },
  }),
};
