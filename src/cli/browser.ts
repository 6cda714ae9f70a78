// Opening a URL in the user's browser (login, `ancla open`): an argument array, never a shell, and
// nothing at all without a display, where xdg-open could start a text browser on this terminal.
/** The command that opens a URL on this platform, as an argument array (never a shell). */
export function openCommand(url: string, platform = process.platform, env = process.env): string[] | null {
  if (platform === "darwin") return ["open", url];
  if (platform === "win32") return ["rundll32", "url.dll,FileProtocolHandler", url];
  // without a display, xdg-open may start a text browser on this terminal: just print the URL
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return ["xdg-open", url];
}

export function tryOpen(url: string, env: Record<string, string | undefined>): boolean {
  const argv = openCommand(url, process.platform, env as NodeJS.ProcessEnv);
  if (!argv) return false;
  try {
    const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    proc.unref();
    return true;
  } catch {
    return false;
  }
}

