// The router's HTTPS side with certificates made by openssl (no CA needed here): SNI picks the
// certificate, new certificates are served after setCertificates without a restart, X-Forwarded-
// Proto is https, HSTS and the HTTP→HTTPS redirect follow the service's policy, ACME challenges
// are answered on plain HTTP for any host. Also streaming without buffering, both ways: an upload
// reaches the app before it is complete, and server-sent events arrive one by one.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRouter, type RunningRouter, type TlsCertificate } from "../../src/router/proxy";
import { RouteTable } from "../../src/router/table";

setDefaultTimeout(120_000);

const dir = mkdtempSync(join(tmpdir(), "ancla-router-tls-"));
function selfSigned(name: string): TlsCertificate & { serverName: string } {
  const [cert, key] = [join(dir, `${name}.crt`), join(dir, `${name}.key`)];
  const r = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-keyout", key, "-out", cert, "-subj", `/CN=${name}`, "-addext", `subjectAltName=DNS:${name}`], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return { serverName: name, cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

/** The subject CN presented for `servername` (no verification: the certificates are self-signed). */
const presentedCn = (port: number, servername: string) =>
  new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false }, () => {
      resolve(String(s.getPeerCertificate().subject?.CN));
      s.end();
    });
    s.on("error", reject);
  });

describe("HTTPS and streaming", () => {
  const table = new RouteTable();
  const seen: Record<string, string>[] = [];
  let uploadFirstChunk: (() => void) | undefined;
  let nextEvent: (() => void) | undefined;
  let backend: ReturnType<typeof Bun.serve>;
  let router: RunningRouter;
  const [fallback, a, b, c] = ["default.invalid", "a.example", "b.example", "c.example"].map(selfSigned);

  beforeAll(() => {
    backend = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const path = new URL(req.url).pathname;
        seen.push(Object.fromEntries(req.headers));
        if (path === "/upload") {
          const reader = req.body!.getReader();
          let total = 0;
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            if (total === 0) uploadFirstChunk?.();
            total += value.length;
          }
          return new Response(`got ${total}`);
        }
        if (path === "/events") {
          const enc = new TextEncoder();
          return new Response(
            new ReadableStream({
              async start(ctl) {
                for (let i = 1; i <= 3; i++) {
                  ctl.enqueue(enc.encode(`data: ${i}\n\n`));
                  await new Promise<void>((r) => (nextEvent = r));
                }
                ctl.close();
              },
            }),
            { headers: { "content-type": "text/event-stream" } },
          );
        }
        return new Response("ok");
      },
    });
    table.setHosts(new Map([["a.example", "a"], ["b.example", "b"], ["c.example", "a"]]));
    table.setReplicas("a", [{ id: "a", port: backend.port! }]);
    table.setReplicas("b", [{ id: "b", port: backend.port! }]);
    table.setHttpsPolicies(new Map([["a", { redirect: true, hsts: true }], ["b", { redirect: false, hsts: false }]]));
    const challenges = new Map([["tok-1", "tok-1.thumbprint"]]);
    const issued = new Set(["a.example", "b.example"]);
    router = startRouter({
      hostname: "127.0.0.1",
      port: 0,
      table,
      https: { hostname: "127.0.0.1", port: 0, certificates: [fallback!, a!, b!].map(({ serverName, ...x }) => (serverName === "default.invalid" ? x : { serverName, ...x })) },
      acme: { challenge: (t) => challenges.get(t), hasCertificate: (h) => issued.has(h) },
    });
  });
  afterAll(async () => {
    await router.stop();
    backend.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  const https = (host: string, path = "/") => fetch(`https://127.0.0.1:${router.httpsPort}${path}`, { headers: { host }, tls: { rejectUnauthorized: false, serverName: host } } as RequestInit);
  const http = (host: string, path = "/") => fetch(`http://127.0.0.1:${router.port}${path}`, { headers: { host }, redirect: "manual" });

  test("SNI picks the certificate; unknown names get the default; X-Forwarded-Proto https; HSTS per service", async () => {
    expect(await presentedCn(router.httpsPort!, "a.example")).toBe("a.example");
    expect(await presentedCn(router.httpsPort!, "b.example")).toBe("b.example");
    expect(await presentedCn(router.httpsPort!, "nobody.example")).toBe("default.invalid");
    const resA = await https("a.example");
    expect(resA.status).toBe(200);
    expect(seen.at(-1)!["x-forwarded-proto"]).toBe("https");
    expect(resA.headers.get("strict-transport-security")).toBe("max-age=31536000");
    expect((await https("b.example")).headers.get("strict-transport-security")).toBeNull();
  });

  test("a new certificate set is served after setCertificates, while the old names keep working", async () => {
    expect(await presentedCn(router.httpsPort!, "c.example")).toBe("default.invalid");
    await router.setCertificates([{ cert: fallback!.cert, key: fallback!.key }, a!, b!, c!]);
    expect(await presentedCn(router.httpsPort!, "c.example")).toBe("c.example");
    expect(await presentedCn(router.httpsPort!, "a.example")).toBe("a.example");
    expect((await https("c.example")).status).toBe(200);
  });

  test("plain HTTP: 308 to https when the service wants it and the name has a certificate; ACME challenges for any host", async () => {
    const r = await http("a.example", "/x?y=1");
    expect(r.status).toBe(308);
    expect(r.headers.get("location")).toBe(`https://a.example:${router.httpsPort}/x?y=1`);
    expect((await http("b.example")).status).toBe(200); // redirect off for b
    expect((await http("c.example")).status).toBe(200); // no certificate known to the ACME side
    const ch = await http("not-routed.example", "/.well-known/acme-challenge/tok-1");
    expect(ch.status).toBe(200);
    expect(await ch.text()).toBe("tok-1.thumbprint");
    expect((await http("a.example", "/.well-known/acme-challenge/unknown")).status).toBe(404);
  });

  test("an upload reaches the app before the client has finished sending it", async () => {
    const reached = new Promise<void>((r) => (uploadFirstChunk = r));
    let sendRest!: () => void;
    const rest = new Promise<void>((r) => (sendRest = r));
    const body = new ReadableStream<Uint8Array>({
      async start(ctl) {
        ctl.enqueue(new Uint8Array(64 * 1024));
        await rest; // the second half is only sent once the app has seen the first
        ctl.enqueue(new Uint8Array(64 * 1024));
        ctl.close();
      },
    });
    const res = fetch(`http://127.0.0.1:${router.port}/upload`, { method: "POST", headers: { host: "b.example" }, body, duplex: "half" } as RequestInit);
    await reached;
    sendRest();
    expect(await (await res).text()).toBe(`got ${128 * 1024}`);
  });

  test("server-sent events arrive one at a time (nothing waits for the response to end)", async () => {
    const res = await http("b.example", "/events");
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    for (let i = 1; i <= 3; i++) {
      const { value } = await reader.read();
      expect(dec.decode(value)).toBe(`data: ${i}\n\n`);
      nextEvent?.(); // the backend sends the next event only after this one arrived
    }
    expect((await reader.read()).done).toBe(true);
  });
});
