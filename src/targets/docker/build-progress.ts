// The legacy builder's JSON progress lines → build events (pure).
export type BuildEvent =
  | { kind: "log"; text: string }
  | { kind: "step"; index: number; total: number; instruction: string }
  | { kind: "container"; id: string }
  | { kind: "built"; id: string }
  | { kind: "error"; message: string };

/** One JSON progress line of the legacy builder → events (log text, step, intermediate container, error). */
export function parseBuildLine(line: string): BuildEvent[] {
  let msg: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string }; aux?: { ID?: string } };
  try {
    msg = JSON.parse(line);
  } catch {
    return line.trim() ? [{ kind: "log", text: line }] : [];
  }
  const out: BuildEvent[] = [];
  if (msg.error || msg.errorDetail?.message) {
    const message = (msg.errorDetail?.message ?? msg.error ?? "build failed").trim();
    out.push({ kind: "log", text: message }, { kind: "error", message });
    return out;
  }
  if (msg.aux?.ID) out.push({ kind: "built", id: msg.aux.ID });
  const text = msg.stream ?? msg.status;
  if (typeof text !== "string") return out;
  for (const l of text.split("\n")) {
    const clean = l.replace(/\r/g, "").trimEnd();
    if (!clean) continue;
    out.push({ kind: "log", text: clean });
    const step = /^Step (\d+)\/(\d+) : (.*)$/.exec(clean);
    if (step) out.push({ kind: "step", index: Number(step[1]), total: Number(step[2]), instruction: step[3]! });
    const running = /^ ---> Running in ([0-9a-f]{12,64})$/.exec(clean);
    if (running) out.push({ kind: "container", id: running[1]! });
    const built = /^Successfully built ([0-9a-f]{12,64})$/.exec(clean);
    if (built && !msg.aux) out.push({ kind: "built", id: built[1]! });
  }
  return out;
}
