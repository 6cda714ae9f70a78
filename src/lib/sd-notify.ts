// systemd's readiness protocol (sd_notify): `Type=notify` units get READY=1 once the server
// listens, and a reload tells systemd which process is the service's main one afterwards
// (MAINPID=), or systemd would stop the unit when the old process exits. A no-op outside systemd.
import { sendUnixDatagram } from "./libc";

export type NotifyState = { READY?: 1; RELOADING?: 1; STOPPING?: 1; MAINPID?: number; STATUS?: string };

/** The datagram's text: one `KEY=value` line per field (pure, for tests). */
export function notifyMessage(state: NotifyState): string {
  return Object.entries(state)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v).replace(/\n/g, " ")}`)
    .join("\n");
}

/** Send to $NOTIFY_SOCKET when systemd set one; false when there is none or sending failed. */
export function sdNotify(state: NotifyState, env: Record<string, string | undefined> = process.env): boolean {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return false;
  return sendUnixDatagram(socket, notifyMessage(state));
}
