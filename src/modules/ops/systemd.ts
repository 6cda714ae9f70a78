// `ancla service install`: the systemd unit and the steps that install it, as data (pure: the unit
// text and the command arrays are what the tests check); src/cli/commands/ops.ts runs them, or,
// on a machine without systemd, prints what to run instead.
export const UNIT_NAME = "ancla.service";
export const UNIT_PATH = `/etc/systemd/system/${UNIT_NAME}`;
export const DEFAULT_USER = "ancla";
export const DEFAULT_DATA_DIR = "/var/lib/ancla";
export const DEFAULT_BINARY = "/usr/local/bin/ancla";
/** Flags a service gets unless the installer names them: a production install backs itself up. */
export const SERVICE_DEFAULT_FLAGS: Record<string, string> = { "backup-every": "24h", "backup-keep": "7" };

export type ServiceOptions = {
  binary: string;
  user: string;
  dataDir: string;
  /** serve flags by their long name (without --), in the order given; true = a switch without a value */
  flags: Record<string, string | true>;
};

export type ServicePlan = { files: { path: string; mode: number; content: string }[]; commands: string[][] };

/** One ExecStart word: systemd splits on spaces and expands % and $; quote and escape as its grammar wants. */
export function systemdQuote(word: string): string {
  const escaped = word.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (escaped !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** A word for a POSIX shell (printed instructions): single quotes unless it is plainly safe. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export const serveArgs = (o: ServiceOptions): string[] => [
  o.binary,
  "serve",
  "--data-dir",
  o.dataDir,
  ...Object.entries({ ...SERVICE_DEFAULT_FLAGS, ...o.flags }).flatMap(([k, v]) => (k === "data-dir" ? [] : v === true ? [`--${k}`] : [`--${k}`, v])),
];

const lowPort = (hostPort: string | true | undefined) => typeof hostPort === "string" && Number(hostPort.slice(hostPort.lastIndexOf(":") + 1)) < 1024;

export function systemdUnit(o: ServiceOptions): string {
  const backupDir = o.flags["backup-dir"];
  const writable = [o.dataDir, ...(typeof backupDir === "string" ? [backupDir] : [])];
  const needsLowPorts = ["listen", "router", "https"].some((k) => lowPort(o.flags[k]));
  return [
    "# Installed by `ancla service install`; `ancla service install --uninstall` removes it (the data stays).",
    "[Unit]",
    "Description=Ancla deployment platform (API, dashboard, app router)",
    "Wants=network-online.target",
    "After=network-online.target docker.service",
    "",
    "[Service]",
    // notify: ready once it listens; a reload hands the service to a new process (MAINPID=)
    "Type=notify",
    "NotifyAccess=all",
    `User=${o.user}`,
    `Group=${o.user}`,
    "SupplementaryGroups=docker",
    `ExecStart=${serveArgs(o).map(systemdQuote).join(" ")}`,
    // graceful reload: the binary now on disk takes over the listeners, no request is dropped
    "ExecReload=/bin/kill -HUP $MAINPID",
    "Restart=on-failure",
    "RestartSec=2",
    "TimeoutStartSec=180",
    "TimeoutStopSec=40",
    "UMask=0077",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    `ReadWritePaths=${writable.map(systemdQuote).join(" ")}`,
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectControlGroups=yes",
    "RestrictSUIDSGID=yes",
    "RestrictRealtime=yes",
    "LockPersonality=yes",
    ...(needsLowPorts ? ["AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE"] : ["CapabilityBoundingSet="]),
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * Install: a system user in the docker group, the private data dir, the unit, enabled and started.
 * Run again over a running service it reloads it gracefully (a new binary on disk takes over);
 * only a changed unit (other flags) needs a restart, as a reload keeps the running command line.
 */
export function installPlan(o: ServiceOptions, userExists: boolean, unitChanged = true): ServicePlan {
  return {
    files: [{ path: UNIT_PATH, mode: 0o644, content: systemdUnit(o) }],
    commands: [
      userExists
        ? ["usermod", "--append", "--groups", "docker", o.user]
        : ["useradd", "--system", "--home-dir", o.dataDir, "--no-create-home", "--shell", "/usr/sbin/nologin", "--groups", "docker", o.user],
      ["install", "-d", "-m", "0700", "-o", o.user, "-g", o.user, o.dataDir],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", UNIT_NAME],
      ["systemctl", unitChanged ? "restart" : "reload-or-restart", UNIT_NAME],
    ],
  };
}

/** Uninstall: stop and remove the unit; the user and the data dir stay (they hold the data). */
export function uninstallPlan(): ServicePlan & { remove: string[] } {
  return { files: [], remove: [UNIT_PATH], commands: [["systemctl", "disable", "--now", UNIT_NAME], ["systemctl", "daemon-reload"]] };
}

/** What to run on a machine without systemd: the same user and data dir, and the server under any supervisor. */
export function withoutSystemd(o: ServiceOptions): string {
  const sh = (argv: string[]) => "  " + argv.map(shellQuote).join(" ");
  const pidFile = `${o.dataDir}/serve.pid`;
  return [
    "systemd is not running on this machine (no /run/systemd/system): no unit was installed and nothing was changed.",
    "Run Ancla as an unprivileged user under the supervisor you use instead (runit, s6, supervisord, a container's init), as root:",
    "",
    sh(["useradd", "--system", "--home-dir", o.dataDir, "--no-create-home", "--shell", "/usr/sbin/nologin", "--groups", "docker", o.user]),
    sh(["install", "-d", "-m", "0700", "-o", o.user, "-g", o.user, o.dataDir]),
    sh(["runuser", "-u", o.user, "--", ...serveArgs(o)]),
    "",
    "Graceful reload (the binary on disk takes over without dropping a request; `ancla upgrade` does this for you):",
    `  kill -HUP "$(cat ${shellQuote(pidFile)})"`,
    "Stop (in-flight requests finish, apps keep running):",
    `  kill -TERM "$(cat ${shellQuote(pidFile)})"`,
    "",
    "The unit this command installs where systemd runs: ancla service install --print",
  ].join("\n");
}
