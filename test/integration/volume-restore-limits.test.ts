// A volume restore bounds what it unpacks, not only what it receives (real Docker, real HTTP on
// 127.0.0.1, the listener `ancla serve` uses): a gzip bomb — a few KiB that unpack to 50 MiB — is
// refused with 413 at --max-volume-restore-size and nothing past the limit reaches the volume,
// which is left empty (no part of an archive passes for all of it); a tar of more entries than
// --max-volume-restore-entries is refused the same way; a body that is not a tar, or whose first
// entry is refused, changes nothing; an ordinary restore gives back exactly its files; no answer
// carries the service's secrets.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, lstatSync, readdirSync } from "node:fs";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { contextTar, RUN_ID, testDocker } from "../support/docker";
import { behindSizedLink, rawEnd, rawEntry, rawGnuLongName, rawPax, tarOf, volumeBackupFiles, type TarEntry } from "../support/volume-tar";
import { createApp } from "../../src/app";
import { listenApi, type Listener } from "../../src/front";
import { SERVER_BODY_CAP } from "../../src/lib/body-limit";
import { createLogger } from "../../src/lib/logger";

setDefaultTimeout(300_000);

const MiB = 1024 * 1024;
const LIMIT = 4 * MiB;
const ENTRIES = 200;
const SECRET = "vol-secret-" + crypto.randomUUID();
let h: DeployHarness;
let api: Listener;
let url = "";
let serviceId = "";


const path = () => `/api/v1/orgs/${h.org}/projects/web/envs/production/services/app/volumes/data`;

/** POST the archive over HTTP in 64 KiB pieces (a streamed body, as the CLI sends a file). */
async function restore(archive: Buffer): Promise<{ status: number; body: any; text: string }> {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < archive.length; i += 64 * 1024) c.enqueue(new Uint8Array(archive.subarray(i, i + 64 * 1024)));
      c.close();
    },
  });
  const res = await fetch(`${url}${path()}/restore`, { method: "POST", body: stream, headers: { "x-api-key": h.key, "content-type": "application/octet-stream" } });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

async function backup(): Promise<Record<string, string>> {
  const res = await fetch(`${url}${path()}/backup`, { headers: { "x-api-key": h.key } });
  expect(res.status).toBe(200);
  return volumeBackupFiles(new Uint8Array(await res.arrayBuffer()));
}

/** The volume's files as the host holds them (the tests run as root next to the engine). */
async function onDisk(): Promise<string[]> {
  const vol = await testDocker().getVolume(`ancla-vol-${serviceId}-data`).inspect();
  return readdirSync(vol.Mountpoint, { recursive: true }).map(String).sort();
}

/** Bytes of the volume's files on the host, sampled until `done` settles: the most seen. */
async function mostBytesWhile(done: Promise<unknown>): Promise<number> {
  const dir = (await testDocker().getVolume(`ancla-vol-${serviceId}-data`).inspect()).Mountpoint;
  let most = 0;
  let settled = false;
  void done.finally(() => (settled = true));
  while (!settled) {
    let sum = 0;
    try {
      for (const f of readdirSync(dir, { recursive: true })) sum += lstatSync(`${dir}/${f}`, { throwIfNoEntry: false })?.size ?? 0;
    } catch {} // the volume is being recreated
    most = Math.max(most, sum);
    await Bun.sleep(5);
  }
  return most;
}

const ORDINARY: [TarEntry, string | Buffer | undefined][] = [
  [{ name: "db", type: "directory", mode: 0o755 }, undefined],
  [{ name: "db/data.bin", mode: 0o600 }, Buffer.from(Array.from({ length: 3 * MiB }, (_, i) => (i * 7) % 256))],
  [{ name: "db/current", type: "symlink", linkname: "data.bin" }, undefined],
  [{ name: "notes.txt", mode: 0o644 }, "kept\n"],
];

beforeAll(async () => {
  h = await deployHarness("vrl", { maxVolumeRestoreSize: LIMIT, maxVolumeRestoreEntries: ENTRIES });
  serviceId = await h.service("app");
  expect((await h.t.req("POST", `${h.base()}/app/volumes`, { name: "data", mount_path: "/data" }, { key: h.key })).status).toBe(201);
  await h.setVar("app", "API_TOKEN", SECRET, true);
  await h.build("app", fixtureFiles({ Procfile: "web: exec httpd -f -p \"$PORT\" -h /www" }));
  await h.release(serviceId); // a release, never deployed: nothing mounts the volume
  api = listenApi(h.t.deps, createApp(h.t.deps), { hostname: "127.0.0.1", port: 0, reusePort: false, maxRequestBodySize: SERVER_BODY_CAP });
  url = `http://127.0.0.1:${api.server.port}`;
});
afterAll(async () => {
  await api?.stop(true);
  await h?.close();
  const docker = testDocker();
  for (const v of (await docker.listVolumes({ filters: { label: [`dev.ancla.test-run=${RUN_ID}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => {});
});

describe("volume restore limits", () => {
  test("an ordinary tar.gz restores exactly, just under the limit", async () => {
    const archive = await tarOf(ORDINARY);
    expect(archive.length).toBeLessThan(LIMIT);
    const r = await restore(gzipSync(archive));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true, bytes: gzipSync(archive).length });
    const files = await backup();
    expect(files["notes.txt"]).toBe("kept\n");
    // byte for byte, read from the volume on the host
    const vol = await testDocker().getVolume(`ancla-vol-${serviceId}-data`).inspect();
    expect((await Bun.file(`${vol.Mountpoint}/db/data.bin`).bytes()).length).toBe(3 * MiB);
    expect(Buffer.from(await Bun.file(`${vol.Mountpoint}/db/data.bin`).arrayBuffer()).equals(ORDINARY[1]![1] as Buffer)).toBe(true);
    expect(await onDisk()).toEqual(["db", "db/current", "db/data.bin", "notes.txt"]);
  });

  test("a body that is not a tar, or whose first entry is refused, changes nothing", async () => {
    const junk = await restore(Buffer.from("this is not an archive\n".repeat(100)));
    expect(junk.status).toBe(400);
    expect(junk.body.message).toStartWith("The archive is not a valid tar or tar.gz");
    expect(junk.body.message).toEndWith("Nothing was changed.");
    const device = await restore(await tarOf([[{ name: "sda", type: "block-device", devmajor: 8, devminor: 0 }, undefined]]));
    expect(device.body).toEqual({ status: 422, message: "Archive entry 'sda' is a block-device; only files, directories, links and FIFOs can be restored. Nothing was changed." });
    // the same device and 300 entries behind a link that declares them as its contents: Docker's
    // reader would unpack them, past both checks
    const hidden = await tarOf([[{ name: "sda", type: "block-device", devmajor: 8, devminor: 0 }, undefined], ...Array.from({ length: 300 }, (_, i): [TarEntry, string] => [{ name: `h${i}` }, ""])]);
    const smuggled = await restore(await behindSizedLink(hidden));
    expect(smuggled.status).toBe(422);
    expect(smuggled.body.message).toMatch(/^Archive entry 'lnk' is a symlink that declares \d+ bytes of contents; entries of its type carry none\. Nothing was changed\.$/);
    expect(await onDisk()).toEqual(["db", "db/current", "db/data.bin", "notes.txt"]);
  });

  test("a gzip bomb is refused with 413 at the unpacked limit before the volume is touched: it keeps its files", async () => {
    const bomb = gzipSync(await tarOf([[{ name: "a.txt" }, "first\n"], [{ name: "zeros" }, Buffer.alloc(50 * MiB)]]));
    expect(bomb.length).toBeLessThan(MiB / 4);
    const before = await onDisk();
    const saved = await backup();
    const logged: string[] = [];
    const logger = h.t.deps.logger;
    h.t.deps.logger = createLogger((line) => logged.push(line), h.t.deps.redactor.redact, { format: "json" });
    const answer = restore(bomb);
    const most = await mostBytesWhile(answer).finally(() => (h.t.deps.logger = logger));
    const r = await answer;
    expect(most).toBeLessThanOrEqual(LIMIT);
    expect(r.body).toEqual({ status: 413, message: `The volume archive unpacks to more than ${LIMIT} bytes (--max-volume-restore-size). Nothing was changed.` });
    expect(r.text).not.toContain(SECRET);
    expect(await onDisk()).toEqual(before);
    expect(await backup()).toEqual(saved);
    // nothing was emptied, so nothing says so
    expect(logged.filter((l) => l.includes("left empty"))).toEqual([]);
    // no spool file is left in the data dir
    expect(readdirSync(`${h.t.dataDir}/spool`)).toEqual([]);
  });

  test("a plain tar far over the limit, streamed from a file, gets the 413 while it is still being sent", async () => {
    const file = `${h.t.dataDir}/big.tar`;
    await Bun.write(file, await tarOf([[{ name: "big" }, Buffer.alloc(64 * MiB, 1)]]));
    const res = await fetch(`${url}${path()}/restore`, { method: "POST", body: Bun.file(file).stream(), headers: { "x-api-key": h.key, "content-type": "application/x-tar" } });
    expect(res.status).toBe(413);
    expect((await res.json()).message).toStartWith(`The volume archive unpacks to more than ${LIMIT} bytes`);
    expect(await onDisk()).toEqual(["db", "db/current", "db/data.bin", "notes.txt"]);
  });

  test("a tar of more entries than the limit is refused with 413 and changes nothing; one at the limit restores", async () => {
    const empties = (n: number) => tarOf(Array.from({ length: n }, (_, i): [TarEntry, string] => [{ name: `e${i}` }, ""]));
    expect((await restore(await tarOf(ORDINARY))).status).toBe(200);
    const r = await restore(await empties(ENTRIES * 5));
    expect(r.body).toEqual({ status: 413, message: `The volume archive has more than ${ENTRIES} entries (--max-volume-restore-entries). Nothing was changed.` });
    expect(r.text).not.toContain(SECRET);
    expect(await onDisk()).toEqual(["db", "db/current", "db/data.bin", "notes.txt"]);
    const full = await restore(await empties(ENTRIES));
    expect(full.status).toBe(200);
    expect((await onDisk()).length).toBe(ENTRIES);
  });

  test("while a restore runs, another restore and a backup of the volume get 409 and change nothing; after it, both work", async () => {
    const first = await tarOf([[{ name: "one.txt" }, "first archive\n"], [{ name: "pad" }, Buffer.alloc(512 * 1024, 7)]]);
    // the first restore sends half its body, then waits until the others were answered
    let finish!: () => void;
    const held = new Promise<void>((r) => (finish = r));
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(new Uint8Array(first.subarray(0, first.length / 2)));
        await held;
        c.enqueue(new Uint8Array(first.subarray(first.length / 2)));
        c.close();
      },
    });
    const running = fetch(`${url}${path()}/restore`, { method: "POST", body, headers: { "x-api-key": h.key, "content-type": "application/x-tar" } });
    // the first restore is receiving once its spool file exists (it claimed the volume before making it)
    const deadline = Date.now() + 120_000;
    const spooling = () => existsSync(`${h.t.dataDir}/spool`) && readdirSync(`${h.t.dataDir}/spool`).some((f) => f.startsWith("restore-"));
    while (!spooling() && Date.now() < deadline) await Bun.sleep(50);
    const second = await restore(await tarOf([[{ name: "two.txt" }, "second archive\n"]]));
    expect(second.body).toEqual({ status: 409, message: "Volume data is busy: a restore of it is running. Nothing was changed; try again once it has ended." });
    const busyBackup = await fetch(`${url}${path()}/backup`, { headers: { "x-api-key": h.key } });
    expect(busyBackup.status).toBe(409);
    expect((await busyBackup.json()).message).toStartWith("Volume data is busy: a restore of it is running.");
    // meanwhile the engine removes images (every tenant's retention and deletes): Docker never saw
    // this restore's archive, so it holds no lock they wait for (streamed straight in, it did: this
    // removal then waited until the body ended, here never)
    const heldImage = `ancla-test/held-${RUN_ID}:1`;
    const build = await testDocker().buildImage(Readable.from([await contextTar({ Dockerfile: "FROM ancla-test/busybox\nRUN echo held > /held\n" })]) as never, { t: heldImage, labels: { "dev.ancla.test-run": RUN_ID } });
    await new Promise<void>((resolve, reject) => testDocker().modem.followProgress(build, (err: Error | null) => (err ? reject(err) : resolve())));
    await testDocker().getImage(heldImage).remove({ force: true });
    finish();
    const done = await running;
    expect(done.status).toBe(200);
    const files = await backup();
    expect(Object.keys(files).sort()).toEqual(["one.txt", "pad"]);
    expect(files["one.txt"]).toBe("first archive\n");
    // free again: the second archive restores alone
    expect((await restore(await tarOf([[{ name: "two.txt" }, "second archive\n"]]))).status).toBe(200);
    expect(await onDisk()).toEqual(["two.txt"]);
  });

  test("headers that two tar readers take differently unpack as the checks read them: nothing hidden, nothing emptied", async () => {
    // tar-stream merges a global pax 'size' into the next local pax header (so 'cover' holds the
    // bytes after it); Go's reader ignores global records and would unpack them as entries: a
    // device and more entries than the limit, past both checks
    const hidden = Buffer.concat([rawEntry("sda", Buffer.alloc(0), "4"), ...Array.from({ length: ENTRIES + 50 }, (_, i) => rawEntry(`h${i}`))]);
    const globalSize = Buffer.concat([rawEntry("first", Buffer.from("x\n")), rawPax({ size: String(hidden.length) }, true), rawPax({ mtime: "1" }), rawEntry("cover"), hidden, rawEntry("visible", Buffer.from("v\n")), rawEnd()]);
    const r = await restore(globalSize);
    expect([r.status, r.body]).toEqual([200, { ok: true, bytes: globalSize.length }]);
    expect(await onDisk()).toEqual(["cover", "first", "visible"]);
    const vol = (await testDocker().getVolume(`ancla-vol-${serviceId}-data`).inspect()).Mountpoint;
    expect(lstatSync(`${vol}/cover`).size).toBe(hidden.length); // the hidden entries are that file's bytes
    // a pax path beside a GNU long name: tar-stream takes the pax path, Go the GNU name ('../evil',
    // which Docker refuses only after it emptied the volume)
    const twoNames = Buffer.concat([rawEntry("one", Buffer.from("1\n")), rawPax({ path: "ok" }), rawGnuLongName("../evil"), rawEntry("ignored", Buffer.from("x\n")), rawEnd()]);
    const named = await restore(twoNames);
    expect(named.status).toBe(200);
    expect(await onDisk()).toEqual(["ok", "one"]);
  });

  test("HEAD on a backup answers its headers without copying the volume", async () => {
    const spool = `${h.t.dataDir}/spool`;
    const before = existsSync(spool) ? readdirSync(spool).length : 0;
    const res = await fetch(`${url}${path()}/backup`, { method: "HEAD", headers: { "x-api-key": h.key } });
    expect([res.status, res.headers.get("content-type"), res.headers.get("content-disposition")]).toEqual([200, "application/gzip", 'attachment; filename="app-data.tar.gz"']);
    expect(existsSync(spool) ? readdirSync(spool).length : 0).toBe(before);
    // no copy was made to measure: a HEAD of the streamed copy answered its full length
    expect(Number(res.headers.get("content-length") ?? 0)).toBe(0);
    // and a HEAD for a volume that does not exist is a 404 like the GET
    expect((await fetch(`${url}${path().replace(/data$/, "nope")}/backup`, { method: "HEAD", headers: { "x-api-key": h.key } })).status).toBe(404);
  });

  test("the limits are server settings with defaults of 32 GiB and 1,000,000 entries", async () => {
    const { loadServeConfig } = await import("../../src/config");
    expect(loadServeConfig({}, {})).toMatchObject({ maxVolumeRestoreSize: 32 * 1024 ** 3, maxVolumeRestoreEntries: 1_000_000 });
    expect(loadServeConfig({ "max-volume-restore-size": "1048576" }, { ANCLA_MAX_VOLUME_RESTORE_ENTRIES: "50" })).toMatchObject({ maxVolumeRestoreSize: MiB, maxVolumeRestoreEntries: 50 });
  });
});
