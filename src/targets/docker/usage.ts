// Resource usage of running containers, read from their cgroup files (v2, or v1 on hosts that
// still run it) and their network namespace's /proc/<pid>/net/dev. A Docker `stats` call takes
// ~1 s per container (it waits for two samples), so the Engine API is only the fallback for
// containers whose files are unreachable (a remote engine, a cgroup namespace we cannot map).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DockerClient } from "./client";
import type { UsageReader, UsageReading, UsageTarget } from "../target";

export type { UsageReader, UsageReading, UsageTarget } from "../target";

type Files = { kind: "cgroup2" | "cgroup1"; cpu: string; memCurrent: string; memStat: string; netDev: string };
type Located = { generation: number | undefined; at: number } & ({ kind: "files"; files: Files } | { kind: "api" } | { kind: "gone" });

// a stopped (or briefly unreachable) container is looked at again after this long, not every tick
const GONE_RECHECK_MS = 60_000;

export type UsageOptions = { cgroupRoot?: string; procRoot?: string; /** skip the files (benchmarks, tests of the fallback) */ apiOnly?: boolean };

const numberAfter = (text: string, key: string): number | null => {
  const m = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : null;
};

/** Sum of every interface but loopback: bytes the container received and sent. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (!rest || name!.trim() === "lo") continue;
    const f = rest.trim().split(/\s+/);
    rx += Number(f[0]);
    tx += Number(f[8]);
  }
  return { rx, tx };
}

/** controller → path from /proc/<pid>/cgroup ("" is the v2 unified hierarchy). */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.trim().split("\n")) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    for (const c of controllers!.split(",")) out.set(c, path);
  }
  return out;
}

/**
 * Where a container's files are. The path in /proc/<pid>/cgroup comes first; Docker's usual
 * layouts (cgroupfs `docker/<id>`, systemd `system.slice/docker-<id>.scope`) cover a server
 * running inside a cgroup namespace, where that path is relative to our own cgroup.
 */
export function locateFiles(root: string, proc: string, id: string, pid: number): Files | null {
  let paths = new Map<string, string>();
  try {
    paths = parseProcCgroup(readFileSync(join(proc, String(pid), "cgroup"), "utf8"));
  } catch {}
  const conventional = [`/docker/${id}`, `/system.slice/docker-${id}.scope`];
  const netDev = join(proc, String(pid), "net/dev");
  // pure v2 (memory controller on the unified tree): cpu.stat usage_usec, memory.current
  for (const rel of [paths.get(""), ...conventional]) {
    if (rel === undefined) continue;
    const dir = join(root, rel);
    if (existsSync(join(dir, "memory.current"))) return { kind: "cgroup2", cpu: join(dir, "cpu.stat"), memCurrent: join(dir, "memory.current"), memStat: join(dir, "memory.stat"), netDev };
  }
  // v1 (or hybrid, where memory stays on v1): cpuacct.usage in ns, memory.usage_in_bytes
  for (const [memRel, cpuRel] of [[paths.get("memory"), paths.get("cpuacct")] as const, ...conventional.map((c) => [c, c] as const)]) {
    if (memRel === undefined || cpuRel === undefined) continue;
    const mem = join(root, "memory", memRel);
    const cpu = ["cpuacct", "cpu,cpuacct"].map((d) => join(root, d, cpuRel, "cpuacct.usage")).find((f) => existsSync(f));
    if (cpu && existsSync(join(mem, "memory.usage_in_bytes"))) return { kind: "cgroup1", cpu, memCurrent: join(mem, "memory.usage_in_bytes"), memStat: join(mem, "memory.stat"), netDev };
  }
  return null;
}

/** One reading from the files; throws when they are gone (container removed or restarted). */
export function readFiles(f: Files): UsageReading {
  const cpuText = readFileSync(f.cpu, "utf8");
  const cpuUsec = f.kind === "cgroup2" ? numberAfter(cpuText, "usage_usec") : Math.floor(Number(cpuText.trim()) / 1000);
  const current = Number(readFileSync(f.memCurrent, "utf8").trim());
  const inactive = numberAfter(readFileSync(f.memStat, "utf8"), f.kind === "cgroup2" ? "inactive_file" : "total_inactive_file") ?? 0;
  let net: { rx: number; tx: number } | null = null;
  try {
    net = parseNetDev(readFileSync(f.netDev, "utf8"));
  } catch {} // the init pid exited between ticks: usage still counts, network waits for the next pid
  if (cpuUsec === null || !Number.isFinite(cpuUsec) || !Number.isFinite(current)) throw new Error(`unreadable cgroup files for ${f.cpu}`);
  return { cpuUsec, memoryBytes: Math.max(0, current - inactive), rxBytes: net?.rx ?? null, txBytes: net?.tx ?? null, source: f.kind, atMs: performance.now() };
}

type StatsJson = {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
};

/** The same reading from one Engine API `stats` answer (memory as `docker stats` computes it). */
export function readingOfStats(s: StatsJson): UsageReading | null {
  const total = s.cpu_stats?.cpu_usage?.total_usage;
  const usage = s.memory_stats?.usage;
  if (total === undefined || usage === undefined) return null;
  const st = s.memory_stats?.stats ?? {};
  const inactive = st.inactive_file ?? st.total_inactive_file ?? 0;
  const nets = Object.values(s.networks ?? {});
  return {
    cpuUsec: Math.floor(total / 1000),
    memoryBytes: Math.max(0, usage - inactive),
    rxBytes: nets.length ? nets.reduce((a, n) => a + n.rx_bytes, 0) : null,
    txBytes: nets.length ? nets.reduce((a, n) => a + n.tx_bytes, 0) : null,
    source: "docker-api",
    atMs: performance.now(),
  };
}

// the fallback is slow (~1 s each): a few at a time so it cannot pile up on the engine
const API_CONCURRENCY = 4;

export function createUsageReader(docker: DockerClient, opts: UsageOptions = {}): UsageReader {
  const root = opts.cgroupRoot ?? "/sys/fs/cgroup";
  const proc = opts.procRoot ?? "/proc";
  const cache = new Map<string, Located>();

  // one inspect per container and generation; never per tick
  const locate = async (t: UsageTarget): Promise<Located> => {
    const known = cache.get(t.id);
    if (known && known.generation === t.generation && (known.kind !== "gone" || Date.now() - known.at < GONE_RECHECK_MS)) return known;
    let located: Located;
    const base = { generation: t.generation, at: Date.now() };
    try {
      const info = await docker.getContainer(t.id).inspect();
      const pid = info.State?.Pid ?? 0;
      const files = !opts.apiOnly && pid > 0 ? locateFiles(root, proc, info.Id, pid) : null;
      located = !info.State?.Running ? { ...base, kind: "gone" } : files ? { ...base, kind: "files", files } : { ...base, kind: "api" };
    } catch {
      located = { ...base, kind: "gone" };
    }
    cache.set(t.id, located);
    return located;
  };

  const viaApi = async (id: string): Promise<UsageReading | null> => {
    try {
      return readingOfStats((await docker.getContainer(id).stats({ stream: false })) as StatsJson);
    } catch {
      return null;
    }
  };

  return {
    async read(targets) {
      const out = new Map<string, UsageReading>();
      const slow: string[] = [];
      for (const t of targets) {
        const at = await locate(t);
        if (at.kind === "api") slow.push(t.id);
        if (at.kind !== "files") continue;
        try {
          out.set(t.id, readFiles(at.files));
        } catch {
          cache.delete(t.id); // removed or moved: the next tick inspects it again
        }
      }
      for (let i = 0; i < slow.length; i += API_CONCURRENCY) {
        const batch = slow.slice(i, i + API_CONCURRENCY);
        const got = await Promise.all(batch.map(viaApi));
        batch.forEach((id, j) => got[j] && out.set(id, got[j]!));
      }
      return out;
    },
    retain(keep) {
      for (const id of cache.keys()) if (!keep.has(id)) cache.delete(id);
    },
  };
}
