// Pure parts of running Ancla in production: the systemd unit and install plan, the no-systemd
// instructions, sd_notify messages (and one real datagram), the reload command, log lines.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { installPlan, serveArgs, shellQuote, systemdQuote, systemdUnit, uninstallPlan, withoutSystemd, type ServiceOptions } from "../../src/modules/ops/systemd";
import { notifyMessage, sdNotify } from "../../src/lib/sd-notify";
import { reloadCommand } from "../../src/modules/ops/handover";
import { createLogger } from "../../src/lib/logger";
import { loadServeConfig } from "../../src/config";

setDefaultTimeout(120_000);

const base: ServiceOptions = { binary: "/usr/local/bin/ancla", user: "ancla", dataDir: "/var/lib/ancla", flags: { listen: "127.0.0.1:8000", domain: "apps.example.com" } };

describe("systemd unit", () => {
  test("runs ancla serve on /var/lib/ancla as the ancla user, reloads with SIGHUP, restarts on failure, hardened", () => {
    const unit = systemdUnit(base);
    const lines = unit.split("\n");
    expect(lines).toContain("ExecStart=/usr/local/bin/ancla serve --data-dir /var/lib/ancla --backup-every 24h --backup-keep 7 --listen 127.0.0.1:8000 --domain apps.example.com");
    for (const line of [
      "Type=notify",
      "NotifyAccess=all",
      "User=ancla",
      "Group=ancla",
      "SupplementaryGroups=docker",
      "ExecReload=/bin/kill -HUP $MAINPID",
      "Restart=on-failure",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ReadWritePaths=/var/lib/ancla",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "CapabilityBoundingSet=",
      "WantedBy=multi-user.target",
    ]) {
      expect(lines).toContain(line);
    }
    expect(unit).not.toContain("AmbientCapabilities");
  });

  test("ports below 1024 get CAP_NET_BIND_SERVICE; a backup dir elsewhere is writable; given flags win over the defaults", () => {
    const unit = systemdUnit({ ...base, flags: { router: "0.0.0.0:80", https: "0.0.0.0:443", "backup-dir": "/srv/ancla backups", "backup-keep": "30" } });
    expect(unit).toContain("AmbientCapabilities=CAP_NET_BIND_SERVICE\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE");
    expect(unit).toContain('ReadWritePaths=/var/lib/ancla "/srv/ancla backups"');
    expect(unit).toContain('--backup-every 24h --backup-keep 30 --router 0.0.0.0:80 --https 0.0.0.0:443 --backup-dir "/srv/ancla backups"');
  });

  test("ExecStart words are quoted and escaped for systemd; printed commands for a shell", () => {
    expect(systemdQuote("plain/path:8000")).toBe("plain/path:8000");
    expect(systemdQuote("a b")).toBe('"a b"');
    expect(systemdQuote('say "hi"')).toBe('"say \\"hi\\""');
    expect(systemdQuote("100%")).toBe("100%%");
    expect(systemdQuote("$HOME")).toBe('"$$HOME"');
    expect(systemdQuote("")).toBe('""');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(serveArgs({ ...base, flags: { "data-dir": "/ignored" } })).toEqual(["/usr/local/bin/ancla", "serve", "--data-dir", "/var/lib/ancla", "--backup-every", "24h", "--backup-keep", "7"]);
  });

  test("install plan: system user in the docker group (or added to it), 0700 data dir, unit file, enabled and started; uninstall keeps the data", () => {
    const fresh = installPlan(base, false);
    expect(fresh.commands).toEqual([
      ["useradd", "--system", "--home-dir", "/var/lib/ancla", "--no-create-home", "--shell", "/usr/sbin/nologin", "--groups", "docker", "ancla"],
      ["install", "-d", "-m", "0700", "-o", "ancla", "-g", "ancla", "/var/lib/ancla"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "ancla.service"],
      ["systemctl", "restart", "ancla.service"],
    ]);
    // run again with the same unit over a running service: a graceful reload, no restart
    expect(installPlan(base, true, false).commands.at(-1)).toEqual(["systemctl", "reload-or-restart", "ancla.service"]);
    expect(fresh.files).toEqual([{ path: "/etc/systemd/system/ancla.service", mode: 0o644, content: systemdUnit(base) }]);
    expect(installPlan(base, true).commands[0]).toEqual(["usermod", "--append", "--groups", "docker", "ancla"]);
    const un = uninstallPlan();
    expect(un.remove).toEqual(["/etc/systemd/system/ancla.service"]);
    expect(un.commands).toEqual([["systemctl", "disable", "--now", "ancla.service"], ["systemctl", "daemon-reload"]]);
    expect(JSON.stringify(un)).not.toContain("/var/lib/ancla");
  });

  test("without systemd: nothing installed, and the exact commands to run instead", () => {
    const text = withoutSystemd({ ...base, flags: { domain: "my apps.example" } });
    expect(text.split("\n")[0]).toBe("systemd is not running on this machine (no /run/systemd/system): no unit was installed and nothing was changed.");
    expect(text).toContain("  useradd --system --home-dir /var/lib/ancla --no-create-home --shell /usr/sbin/nologin --groups docker ancla");
    expect(text).toContain("  install -d -m 0700 -o ancla -g ancla /var/lib/ancla");
    expect(text).toContain("  runuser -u ancla -- /usr/local/bin/ancla serve --data-dir /var/lib/ancla --backup-every 24h --backup-keep 7 --domain 'my apps.example'");
    expect(text).toContain(`kill -HUP "$(cat /var/lib/ancla/serve.pid)"`);
  });
});

describe("sd_notify", () => {
  test("message lines; no NOTIFY_SOCKET → nothing sent", () => {
    expect(notifyMessage({ READY: 1, MAINPID: 42, STATUS: "a\nb" })).toBe("READY=1\nMAINPID=42\nSTATUS=a b");
    expect(sdNotify({ READY: 1 }, {})).toBe(false);
  });

  test("a real datagram reaches an abstract unix socket (what systemd listens on)", async () => {
    const name = `ancla-notify-test-${process.pid}`;
    const py = Bun.spawn(["python3", "-c", `import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind("\\0${name}")\nprint("ready",flush=True)\ns.settimeout(10)\nprint(s.recv(4096).decode(),flush=True)`], { stdout: "pipe" });
    const reader = py.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("ready");
    expect(sdNotify({ MAINPID: 1234, READY: 1 }, { NOTIFY_SOCKET: `@${name}` })).toBe(true);
    let text = first;
    while (!text.includes("READY=1")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain("MAINPID=1234\nREADY=1");
    await py.exited;
  });
});

test("reload command: the compiled binary with the same arguments, or bun with the same script and arguments", () => {
  expect(reloadCommand(["bun", "/$bunfs/root/ancla", "serve", "--data-dir", "/d"], "/usr/local/bin/ancla (deleted)", "/$bunfs/root/ancla")).toEqual(["/usr/local/bin/ancla", "serve", "--data-dir", "/d"]);
  expect(reloadCommand(["/usr/bin/bun", "/src/main.ts", "serve", "--listen", "127.0.0.1:0"], "/usr/bin/bun", "/src/main.ts")).toEqual(["/usr/bin/bun", "/src/main.ts", "serve", "--listen", "127.0.0.1:0"]);
});

describe("server log lines", () => {
  const now = () => new Date("2026-12-01T10:00:00.000Z");
  test("json: one object per line with time, level, msg and fields; secrets redacted inside strings; levels filter", () => {
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l), (s) => s.replaceAll('s3cr"et', "[redacted]"), { format: "json", level: "info", now });
    log.debug("hidden");
    log.info("request failed", { request_id: "r1", error: 'token s3cr"et leaked' });
    log.error("boom");
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { time: "2026-12-01T10:00:00.000Z", level: "info", msg: "request failed", request_id: "r1", error: "token [redacted] leaked" },
      { time: "2026-12-01T10:00:00.000Z", level: "error", msg: "boom" },
    ]);
  });

  test("text: time level msg {fields}; debug written at --log-level debug", () => {
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l), (s) => s, { format: "text", level: "debug", now });
    log.debug("request", { status: 200 });
    expect(lines).toEqual(['2026-12-01T10:00:00.000Z debug request {"status":200}']);
  });
});

test("settings: durations, backup flags, log format", () => {
  const c = loadServeConfig({ "backup-every": "24h", "backup-keep": "3", "backup-include-key": "true", "log-format": "json" }, {});
  expect([c.backupEvery, c.backupKeep, c.backupIncludeKey, c.logFormat, c.reloadTimeout]).toEqual([86_400_000, 3, true, "json", 60]);
  expect(loadServeConfig({}, { ANCLA_BACKUP_EVERY: "90m" }).backupEvery).toBe(5_400_000);
  expect(loadServeConfig({}, {}).backupEvery).toBeUndefined();
  expect(() => loadServeConfig({ "backup-every": "soon" }, {})).toThrow("must be a duration");
  expect(() => loadServeConfig({ "log-format": "xml" }, {})).toThrow();
});
