// Procfile parsing: `name: command` per line; blank lines and `#` comments ignored.
export type Processes = Record<string, string | null>;

export class ProcfileError extends Error {}

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$/; // process types name containers: DNS-label shaped

/** Process types of a Procfile; without one, a single `web` process running the image's CMD (null). */
export function parseProcfile(text: string | null | undefined): Processes {
  if (text === null || text === undefined) return { web: null };
  const out: Processes = {};
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const where = `Procfile line ${i + 1} ('${line.length > 80 ? line.slice(0, 77) + "..." : line}')`;
    const colon = line.indexOf(":");
    if (colon < 0) throw new ProcfileError(`${where}: expected 'name: command'.`);
    const name = line.slice(0, colon).trim();
    const command = line.slice(colon + 1).trim();
    if (!NAME.test(name)) throw new ProcfileError(`${where}: process type '${name}' must be 1-30 lowercase letters, digits and dashes.`);
    if (!command) throw new ProcfileError(`${where}: process type '${name}' has no command.`);
    if (name in out) throw new ProcfileError(`${where}: process type '${name}' is defined twice.`);
    out[name] = command;
  });
  if (Object.keys(out).length === 0) throw new ProcfileError("Procfile defines no process types.");
  return out;
}
