// wrk as the load generator of every throughput figure (a Bun fetch client saturates near 10k rps
// here, long before the servers do). One thread, keep-alive; a Lua `done` hook prints the exact
// counts and latency percentiles as JSON; wrk's own CPU and the server's are read from
// /proc/<pid>/stat around the run, so a saturated generator or a busy machine shows in the output.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

export type WrkResult = {
  requests: number;
  seconds: number;
  rps: number;
  p50: number; // ms
  p99: number; // ms
  errors: number; // non-2xx plus socket errors
  /** wrk's CPU over the run, in cores (1 = one core busy all the time) */
  wrkCpu: number;
  /** the server's CPU over the run, in cores, when its pid was given */
  serverCpu: number;
  /** server CPU microseconds per request: robust on a shared machine (it does not count waiting) */
  serverUsPerReq: number;
};

const TICK = 100; // USER_HZ on Linux: clock ticks per second in /proc/<pid>/stat

/** utime + stime of a process, in seconds (NaN once it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after the ")" that closes comm: state is field 3, utime 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / TICK;
  } catch {
    return NaN;
  }
}

/** The Lua hooks: rotate over the given paths (one per request, when more than one), print JSON when done. */
function lua(paths: string[]): string {
  const file = join(tmpdir(), `ancla-wrk-${process.pid}-${paths.length}-${Bun.hash(paths.join("\n")).toString(36)}.lua`);
  const list = paths.map((p) => JSON.stringify(p)).join(", ");
  writeFileSync(
    file,
    `local paths = { ${list} }
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"us":%d,"p50":%f,"p99":%f,"status":%d,"socket":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
`,
  );
  return file;
}

/**
 * `wrk -t1 -c<connections> -d<seconds>s` against `base` + paths (rotated), with headers. serverPid:
 * the server process whose CPU to report over the same interval. Loopback only.
 */
export async function wrk(base: string, paths: string[], opts: { seconds: number; connections: number; headers?: Record<string, string>; serverPid?: number }): Promise<WrkResult> {
  if (!base.startsWith("http://127.0.0.1:")) throw new Error("benchmarks only send traffic to 127.0.0.1");
  const script = lua(paths);
  const argv = ["wrk", "-t1", `-c${opts.connections}`, `-d${opts.seconds}s`, "--timeout", "10s", "-s", script];
  for (const [k, v] of Object.entries(opts.headers ?? {})) argv.push("-H", `${k}: ${v}`);
  argv.push(base + paths[0]);
  const server0 = opts.serverPid ? cpuSeconds(opts.serverPid) : NaN;
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  // wrk's CPU from /proc while it runs: the last sample before it exits (it idles while printing)
  let wrkCpu = 0;
  const poll = setInterval(() => {
    const c = cpuSeconds(proc.pid);
    if (Number.isFinite(c)) wrkCpu = c;
  }, 50);
  const out = await new Response(proc.stdout).text();
  const err = await new Response(proc.stderr).text();
  await proc.exited;
  clearInterval(poll);
  rmSync(script, { force: true });
  const server1 = opts.serverPid ? cpuSeconds(opts.serverPid) : NaN;
  // resourceUsage is exact at exit; /proc sampling can miss the last 50 ms
  const usage = proc.resourceUsage();
  if (usage) wrkCpu = Math.max(wrkCpu, Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6);
  const line = /WRKJSON (\{.*\})/.exec(out);
  if (!line) throw new Error(`wrk printed no result:\n${out}\n${err}`);
  const r = JSON.parse(line[1]!) as { requests: number; us: number; p50: number; p99: number; status: number; socket: number };
  const seconds = r.us / 1e6;
  return {
    requests: r.requests,
    seconds,
    rps: r.requests / seconds,
    p50: r.p50 / 1000,
    p99: r.p99 / 1000,
    errors: r.status + r.socket,
    wrkCpu: wrkCpu / seconds,
    serverCpu: (server1 - server0) / seconds,
    serverUsPerReq: ((server1 - server0) * 1e6) / r.requests,
  };
}

export const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const loadAverage = (): string => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
