// Server logger: one line per event, leveled, as text (`<time> <level> <msg> {fields}`) or JSON
// (`{"time","level","msg",...fields}`, for journald/Loki/jq). Every string passes the redactor
// before it is serialized, so a stored secret never reaches a log line (escaping cannot hide it).
export type Redactor = (text: string) => string;
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "text" | "json";
type LogFn = (msg: string, fields?: Record<string, unknown>) => void;
export type Logger = { debug: LogFn; info: LogFn; warn: LogFn; error: LogFn };

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function redactDeep(value: unknown, redact: Redactor, depth = 0): unknown {
  if (typeof value === "string") return redact(value);
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return redact(value.message);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact, depth + 1)]));
}

export type LoggerOptions = { format?: LogFormat; level?: LogLevel; now?: () => Date };

export function createLogger(write: (line: string) => void, redact: Redactor = (s) => s, opts: LoggerOptions = {}): Logger {
  const min = RANK[opts.level ?? "info"];
  const now = opts.now ?? (() => new Date());
  const emit =
    (level: LogLevel): LogFn =>
    (msg, fields) => {
      if (RANK[level] < min) return;
      const time = now().toISOString();
      const clean = fields ? (redactDeep(fields, redact) as Record<string, unknown>) : undefined;
      if (opts.format === "json") write(JSON.stringify({ time, level, msg: redact(msg), ...clean }));
      else write(`${time} ${level} ${redact(msg)}${clean ? " " + JSON.stringify(clean) : ""}`);
    };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
