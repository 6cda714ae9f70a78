// Runtime logs of a service: the output of its replicas (read through its environment's target),
// each line prefixed with process and replica (`web.1 | …`) and passed through the service's
// redactor. Without follow: the last `tail` lines of every replica, merged by time. With follow:
// a stream (Server-Sent Events or text, through a bounded ring) that stays open until the client
// goes away or the server stops (then every replica's follow is closed).
import type { Deps } from "../../deps";
import type { DeployTarget, LogFollow, LogLine } from "../../targets/target";
import { cleanupTarget } from "../deployments/targets";
import { serviceRedactor } from "../config-vars/redaction";
import type { ServiceAccess } from "../services/access";
import { liveStream, type LiveFormat } from "../../lib/live-stream";

export type LogOptions = { tail: number; follow: boolean };
type Source = { id: string; prefix: string };

// an environment whose target this server lacks has no replicas: the local engine finds none
const targetOf = (deps: Deps, access: ServiceAccess): DeployTarget => cleanupTarget(deps, access.env);

/** Running replicas of the service, ordered by process then replica number. */
async function sourcesOf(target: DeployTarget, serviceId: string): Promise<Source[]> {
  return (await target.logSources(serviceId)).map((s) => ({ id: s.id, prefix: `${s.process}.${s.replica}` }));
}

/** The last lines of every replica, oldest first across replicas (by the runtime's timestamps). */
export async function recentLogs(deps: Deps, access: ServiceAccess, tail: number, timestamps = false): Promise<string> {
  const redact = serviceRedactor(deps, access.service.id);
  const target = targetOf(deps, access);
  const lines: { ts: string; n: number; text: string }[] = [];
  let n = 0;
  for (const s of await sourcesOf(target, access.service.id)) {
    const got = await target.tailLog(s.id, tail);
    if (!got) continue; // removed meanwhile
    for (const l of got) lines.push({ ts: l.ts, n: n++, text: `${timestamps && l.ts ? `${l.ts} ` : ""}${s.prefix} | ${redact(l.text)}` });
  }
  lines.sort((a, b) => (a.ts === b.ts ? a.n - b.n : a.ts < b.ts ? -1 : 1));
  return lines.map((l) => l.text + "\n").join("");
}

const RESCAN_MS = 2000;

/**
 * Every replica's output from the last `tail` lines on, as a live stream (SSE or text) with a
 * bounded ring, until the client goes away or the server stops (`signal`). Replicas that start
 * later (a redeploy, a scale) are picked up every RESCAN_MS with all their output.
 */
export async function followLogs(deps: Deps, access: ServiceAccess, tail: number, until: { signal: AbortSignal; gone?: AbortSignal }, timestamps = false, format: LiveFormat = "text"): Promise<ReadableStream<Uint8Array>> {
  const redact = serviceRedactor(deps, access.service.id);
  const target = targetOf(deps, access);
  const first = await sourcesOf(target, access.service.id);
  const open = new Map<string, LogFollow>();
  let timer: ReturnType<typeof setInterval> | undefined;
  const out = liveStream({
    format,
    ...until,
    onClose: () => {
      clearInterval(timer);
      for (const f of open.values()) f.close();
    },
  });
  const attach = async (s: Source, lines: number | "all") => {
    if (out.closed || open.has(s.id)) return;
    // with timestamps the runtime's time goes in front of the prefix
    const format = (l: LogLine) => `${timestamps && l.ts ? `${l.ts} ` : ""}${s.prefix} | ${redact(l.text)}`;
    const follow = await target.followLog(s.id, lines, (l) => out.send(format(l)));
    if (!follow) return; // gone meanwhile
    if (out.closed || open.has(s.id)) return void follow.close();
    open.set(s.id, follow);
    void follow.ended.then(() => open.delete(s.id));
  };
  if (!first.length) out.send("(no running replicas yet; waiting for some to start)");
  for (const s of first) await attach(s, tail);
  const known = new Set(first.map((s) => s.id));
  if (!out.closed)
    timer = setInterval(() => {
      sourcesOf(target, access.service.id)
        .then((now) => {
          for (const s of now) {
            if (known.has(s.id)) continue;
            known.add(s.id);
            void attach(s, "all"); // started after we began: everything it printed is new
          }
        })
        .catch(() => {});
    }, RESCAN_MS);
  return out.body;
}
