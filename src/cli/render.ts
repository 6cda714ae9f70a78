// One renderer for every command: a table (or key/value list) for people, JSON for scripts.
export type Column<T> = { header: string; get: (row: T) => unknown };
export type Output =
  | { kind: "table"; rows: unknown[]; columns: Column<any>[]; data?: unknown }
  | { kind: "object"; value: Record<string, unknown>; data?: unknown }
  | { kind: "text"; text: string; data?: unknown }
  | { kind: "none" };

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return "-";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
};

export function renderTable(rows: unknown[], columns: Column<any>[]): string {
  const grid = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => cell(c.get(r))))];
  const widths = columns.map((_, i) => Math.max(...grid.map((line) => line[i]!.length)));
  return grid.map((line) => line.map((v, i) => (i === line.length - 1 ? v : v.padEnd(widths[i]!))).join("  ")).join("\n");
}

export function renderObject(value: Record<string, unknown>): string {
  const keys = Object.keys(value);
  const w = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${(k + ":").padEnd(w + 1)} ${cell(value[k])}`).join("\n");
}

export function render(output: Output, json: boolean): string | null {
  if (output.kind === "none") return null;
  if (json) {
    const data = output.data ?? (output.kind === "table" ? output.rows : output.kind === "object" ? output.value : { message: output.text });
    return JSON.stringify(data, null, 2);
  }
  if (output.kind === "table") return output.rows.length ? renderTable(output.rows, output.columns) : "(none)";
  if (output.kind === "object") return renderObject(output.value);
  return output.text;
}
