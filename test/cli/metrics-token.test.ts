// --metrics-token is a secret: a scraper with it reads /metrics, and the value never reaches the
// server's log, even when a client puts it where the log would print it (a path, a request id).
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { startLiveServer, type LiveServer } from "../support/server";

setDefaultTimeout(300_000);
const TOKEN = `scrape-${crypto.randomUUID()}`;
let s: LiveServer;

beforeAll(async () => {
  s = await startLiveServer({ args: ["--metrics-token", TOKEN, "--log-format", "json", "--log-level", "debug"], createKey: false });
});
afterAll(async () => {
  await s?.stop();
});

test("the token scrapes /metrics and is redacted wherever a request would put it in the log", async () => {
  const scrape = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(scrape.status).toBe(200);
  expect(await scrape.text()).toContain("ancla_http_requests_total");
  const probe = await fetch(`${s.url}/api/v1/organizations/${TOKEN}`, { headers: { "x-request-id": TOKEN } });
  expect(probe.status).toBe(401);
  expect(probe.headers.get("x-request-id")).toBe(TOKEN); // the id is echoed to its sender, not logged in clear
  let lines: Record<string, unknown>[] = [];
  for (let i = 0; i < 50 && !lines.some((l) => String(l.path ?? "").startsWith("/api/v1/organizations/")); i++) {
    await Bun.sleep(100);
    lines = s.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  }
  const line = lines.find((l) => String(l.path ?? "").startsWith("/api/v1/organizations/"));
  expect(line).toMatchObject({ msg: "request", path: "/api/v1/organizations/[redacted]", request_id: "[redacted]", status: 401 });
  expect(s.output()).not.toContain(TOKEN);
});
