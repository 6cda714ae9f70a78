// `ancla service install` through the CLI. These machines (and CI) run no systemd: the command
// installs nothing — no unit, no user, no data dir — and prints the commands to run instead;
// --print shows the unit it would install.
import { expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { ancla } from "../support/server";

setDefaultTimeout(300_000);

test("without systemd: exit 0, nothing written system-wide, the exact commands to run instead", async () => {
  expect(existsSync("/run/systemd/system")).toBe(false); // the premise of this test
  const r = await ancla(["service", "install", "--binary", "/usr/local/bin/ancla", "--listen", "0.0.0.0:8000", "--domain", "apps.example.com"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toStartWith("systemd is not running on this machine (no /run/systemd/system): no unit was installed and nothing was changed.");
  expect(r.stdout).toContain("  runuser -u ancla -- /usr/local/bin/ancla serve --data-dir /var/lib/ancla --backup-every 24h --backup-keep 7 --listen 0.0.0.0:8000 --domain apps.example.com");
  expect(r.stdout).toContain('kill -HUP "$(cat /var/lib/ancla/serve.pid)"');
  expect(existsSync("/etc/systemd/system/ancla.service")).toBe(false);
  expect(existsSync("/var/lib/ancla")).toBe(false);
  expect(Bun.spawnSync(["id", "-u", "ancla"], { stdout: "ignore", stderr: "ignore" }).exitCode).not.toBe(0);
});

test("--print shows the unit; a bad serve setting is refused before anything is written", async () => {
  const unit = await ancla(["service", "install", "--binary", "/usr/local/bin/ancla", "--print", "--router", "0.0.0.0:80"]);
  expect(unit.code).toBe(0);
  expect(unit.stdout).toContain("ExecStart=/usr/local/bin/ancla serve --data-dir /var/lib/ancla --backup-every 24h --backup-keep 7 --router 0.0.0.0:80\n");
  expect(unit.stdout).toContain("ExecReload=/bin/kill -HUP $MAINPID\n");
  expect(unit.stdout).toContain("AmbientCapabilities=CAP_NET_BIND_SERVICE\n");
  const bad = await ancla(["service", "install", "--backup-every", "soon"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("must be a duration");
});
