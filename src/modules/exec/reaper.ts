// Ending an exec whose client went away. Docker's exec API has no kill, and closing the attached
// stream leaves the process running in the replica (a `sleep 1000`, a shell and its jobs). So every
// exec runs with a marker in its environment, which its children inherit (also jobs a TTY shell
// puts in their own process groups, and daemons that start a new session); on disconnect a second
// exec in the same replica signals every process carrying that marker: HUP, then TERM, then KILL,
// a second apart, until none is left.
import type { DeployTarget, ExecSession } from "../../targets/target";

export const MARKER = "ANCLA_EXEC_SESSION";

const safeId = (id: string): string => {
  if (!/^[0-9A-Za-z-]{1,64}$/.test(id)) throw new Error("exec session ids are UUIDs");
  return id;
};

/** The argv that runs `command` (a shell line; null: the default shell) with the session's marker exported. */
export function markedArgv(sessionId: string, command: string | null, shell: string): string[] {
  const mark = `${MARKER}=${safeId(sessionId)}; export ${MARKER}; `;
  // the command goes in as $1, never into the script's text
  return command === null ? ["/bin/sh", "-c", `${mark}exec "$1"`, "sh", shell] : ["/bin/sh", "-c", `${mark}exec /bin/sh -c "$1"`, "sh", command];
}

/** The shell line that signals the marked processes (its own environment does not carry the marker). */
export function reaperScript(sessionId: string): string {
  const line = `${MARKER}=${safeId(sessionId)}`;
  return [
    "for sig in HUP TERM KILL; do",
    "  found=",
    "  for d in /proc/[0-9]*; do",
    '    p=${d#/proc/}',
    '    [ "$p" = "$$" ] && continue',
    `    if tr '\\000' '\\n' < "$d/environ" 2>/dev/null | grep -qx '${line}'; then kill -$sig "$p" 2>/dev/null; found=1; fi`,
    "  done",
    '  [ -z "$found" ] && exit 0',
    "  sleep 1",
    "done",
  ].join("\n");
}

/** The session, whose close() also ends what it started in the replica (unless it already exited). */
export function reapOnClose(target: Required<Pick<DeployTarget, "exec">>, replicaId: string, sessionId: string, session: ExecSession, onError: (e: Error) => void): ExecSession {
  let exited = false;
  void session.exited.then(() => (exited = true));
  let reaped = false;
  return {
    ...session,
    close: () => {
      session.close();
      if (exited || reaped) return;
      reaped = true;
      void (async () => {
        const reaper = await target.exec({ replicaId, command: ["/bin/sh", "-c", reaperScript(sessionId)], tty: false });
        reaper.end();
        await reaper.exited;
      })().catch(onError);
    },
  };
}
