// Server logger: one line per event, every line passed through the redactor first.
export type Redactor = (text: string) => string;
export type Logger = {
  info: (msg: string, fields?: Record<string, unknown>) => void;
  warn: (msg: string, fields?: Record<string, unknown>) => void;
  error: (msg: string, fields?: Record<string, unknown>) => void;
};

export function createLogger(write: (line: string) => void, redact: Redactor = (s) => s): Logger {
  const emit = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    const extra = fields ? " " + JSON.stringify(fields) : "";
    write(redact(`${new Date().toISOString()} ${level} ${msg}${extra}`));
  };
  return { info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
