// Per-client limits of the router: at most N requests in flight plus open WebSockets per client
// address. Bun.serve exposes no connection events, so what is counted is the work a client holds
// (a request until its response body ends, a WebSocket until it closes), which is what a client
// opening many connections ties up here and at the apps.

/** Default cap per client address (requests in flight + WebSockets). */
export const DEFAULT_MAX_PER_CLIENT = 256;

export class ClientLimiter {
  private held = new Map<string, number>();
  constructor(private readonly max = DEFAULT_MAX_PER_CLIENT) {}

  /** A release function, or null when the client is at its limit. */
  acquire(ip: string | undefined): (() => void) | null {
    if (!ip) return () => {};
    const n = this.held.get(ip) ?? 0;
    if (n >= this.max) return null;
    this.held.set(ip, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(ip) ?? 1) - 1;
      if (left <= 0) this.held.delete(ip);
      else this.held.set(ip, left);
    };
  }

  heldBy(ip: string): number {
    return this.held.get(ip) ?? 0;
  }
}
