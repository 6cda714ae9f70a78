// Redaction of known secret values from any text headed for a log or an error message.
export type Redactor = (text: string) => string;

export const REDACTED = "[redacted]";
/** Shorter values ("1", "on", "dev") would shred ordinary text while protecting nothing. */
export const MIN_REDACT_LENGTH = 4;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Every value, plus the forms it takes once it has passed through JSON.stringify (log fields) or
 * been split into lines (a PEM key echoed line by line by a build).
 */
function variants(value: string): string[] {
  const out = [value];
  const json = JSON.stringify(value).slice(1, -1);
  if (json !== value) out.push(json);
  if (/[\r\n]/.test(value)) for (const line of value.split(/\r?\n/)) out.push(line.trim());
  return out;
}

/** Replace every occurrence of each value (longest first, so overlapping values leave no tail). */
export function createRedactor(values: Iterable<string>): Redactor {
  const set = new Set<string>();
  for (const v of values) for (const x of variants(v)) if (x.length >= MIN_REDACT_LENGTH) set.add(x);
  if (set.size === 0) return (text) => text;
  const sorted = [...set].sort((a, b) => b.length - a.length);
  const re = new RegExp(sorted.map(escapeRe).join("|"), "g");
  return (text) => (text.length < MIN_REDACT_LENGTH ? text : text.replace(re, REDACTED));
}

/** A redactor whose value set can be replaced while loggers keep holding the same function. */
export type ServerRedactor = { redact: Redactor; update: (values: Iterable<string>) => void };

/** `fixed`: values hidden for the whole life of the process (secrets from the server's own settings). */
export function createServerRedactor(values: Iterable<string> = [], fixed: string[] = []): ServerRedactor {
  let current = createRedactor([...values, ...fixed]);
  return {
    redact: (text) => current(text),
    update: (next) => {
      current = createRedactor([...next, ...fixed]);
    },
  };
}

/** Names whose values are treated as secrets in logs even when not flagged secret. */
export const looksSecretName = (name: string): boolean => /(_KEY|_TOKEN|_SECRET)$/i.test(name) || /PASSWORD/i.test(name);

/**
 * A value kept only because of its variable's name (not flagged secret) is redacted only when it
 * could be a credential: short or boolean/numeric values ("true", "8080") would blank out
 * ordinary log text everywhere.
 */
export const redactableByName = (value: string): boolean =>
  value.length >= 8 && !/^(true|false|yes|no|on|off|null|none|enabled|disabled|[0-9.]+)$/i.test(value);
