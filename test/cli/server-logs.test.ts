// The server's own log lines with --log-format json --log-level debug: one JSON object per line,
// and every API request logged with the request id its response carries (the caller's when sane).
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { startLiveServer, type LiveServer } from "../support/server";

setDefaultTimeout(300_000);
let s: LiveServer;

beforeAll(async () => {
  s = await startLiveServer({ args: ["--log-format", "json", "--log-level", "debug"], createKey: false });
});
afterAll(async () => {
  await s?.stop();
});

const stderrLines = () => s.output().split("\n").filter((l) => l.startsWith("{"));

test("requests carry X-Request-Id, and the JSON access line names it", async () => {
  const given = await fetch(`${s.url}/api/v1/integrations/health`, { headers: { "x-request-id": "lb-7f3a:42" } });
  expect(given.headers.get("x-request-id")).toBe("lb-7f3a:42");
  const insane = await fetch(`${s.url}/api/v1/organizations`, { headers: { "x-request-id": "no spaces allowed" } });
  expect(insane.status).toBe(401);
  const generated = insane.headers.get("x-request-id")!;
  expect(generated).toMatch(/^[A-Za-z0-9]{20}$/);
  let lines: Record<string, unknown>[] = [];
  for (let i = 0; i < 50; i++) {
    lines = stderrLines().map((l) => JSON.parse(l));
    if (lines.some((l) => l.request_id === generated)) break;
    await Bun.sleep(100);
  }
  expect(lines.find((l) => l.request_id === "lb-7f3a:42")).toMatchObject({ level: "debug", msg: "request", method: "GET", path: "/api/v1/integrations/health", status: 200 });
  expect(lines.find((l) => l.request_id === generated)).toMatchObject({ level: "debug", msg: "request", path: "/api/v1/organizations", status: 401 });
  for (const l of lines) expect(typeof l.time === "string" && typeof l.level === "string" && typeof l.msg === "string").toBe(true);
});
