// What the sampler reads from a container's cgroup files, on both layouts, from file trees laid
// out as the kernel does (this host runs cgroup v1, so v2 is exercised here with its real file
// formats): v2 `cpu.stat` usage_usec and `memory.current − inactive_file`; v1 `cpuacct.usage`
// (ns) and `memory.usage_in_bytes − total_inactive_file`; network bytes from /proc/<pid>/net/dev
// without loopback; the path from /proc/<pid>/cgroup first, Docker's usual layouts otherwise.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { locateFiles, readFiles } from "../../src/targets/docker/usage";

setDefaultTimeout(120_000);

const dir = mkdtempSync(join(tmpdir(), "ancla-cgroup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ID = "c0ffee".repeat(10) + "abcd";
const MiB = 1024 * 1024;

function put(path: string, text: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}
const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  999999      10    0    0    0     0          0         0   999999      10    0    0    0     0       0          0
  eth0:    4096      20    0    0    0     0          0         0     2048      15    0    0    0     0       0          0
`;

describe("cgroup v2", () => {
  const root = join(dir, "v2", "sys");
  const proc = join(dir, "v2", "proc");
  const cg = join(root, "system.slice", `docker-${ID}.scope`);
  put(join(proc, "42", "cgroup"), `0::/system.slice/docker-${ID}.scope\n`);
  put(join(proc, "42", "net/dev"), NET_DEV);
  put(join(cg, "cpu.stat"), "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 0\n");
  put(join(cg, "memory.current"), String(80 * MiB) + "\n");
  put(join(cg, "memory.stat"), `anon ${60 * MiB}\nfile ${20 * MiB}\nactive_file ${5 * MiB}\ninactive_file ${15 * MiB}\n`);

  test("found through /proc/<pid>/cgroup; CPU in µs from usage_usec, memory without the inactive page cache, rx/tx without loopback", () => {
    const files = locateFiles(root, proc, ID, 42);
    expect(files?.kind).toBe("cgroup2");
    const r = readFiles(files!);
    expect(r).toMatchObject({ cpuUsec: 2_500_000, memoryBytes: 65 * MiB, rxBytes: 4096, txBytes: 2048, source: "cgroup2" });
  });

  test("inside a cgroup namespace (the path in /proc is relative): Docker's systemd layout is found", () => {
    put(join(proc, "43", "cgroup"), "0::/\n");
    put(join(proc, "43", "net/dev"), NET_DEV);
    expect(locateFiles(root, proc, ID, 43)?.memCurrent).toBe(join(cg, "memory.current"));
  });
});

describe("cgroup v1", () => {
  const root = join(dir, "v1", "sys");
  const proc = join(dir, "v1", "proc");
  put(join(proc, "7", "cgroup"), `12:memory:/docker/${ID}\n4:cpu,cpuacct:/docker/${ID}\n1:name=systemd:/docker/${ID}\n`);
  put(join(proc, "7", "net/dev"), NET_DEV);
  put(join(root, "cpu,cpuacct", "docker", ID, "cpuacct.usage"), "1500000000\n");
  put(join(root, "memory", "docker", ID, "memory.usage_in_bytes"), String(100 * MiB) + "\n");
  put(join(root, "memory", "docker", ID, "memory.stat"), `cache ${40 * MiB}\nrss ${60 * MiB}\ninactive_file ${1 * MiB}\ntotal_inactive_file ${30 * MiB}\n`);

  test("cpuacct.usage in ns → µs; memory.usage_in_bytes − total_inactive_file", () => {
    const files = locateFiles(root, proc, ID, 7);
    expect(files?.kind).toBe("cgroup1");
    expect(readFiles(files!)).toMatchObject({ cpuUsec: 1_500_000, memoryBytes: 70 * MiB, rxBytes: 4096, txBytes: 2048, source: "cgroup1" });
  });

  test("no files for the container: null (the Docker API fallback takes it)", () => {
    expect(locateFiles(root, proc, "f".repeat(64), 9999)).toBeNull();
  });
});
