// .env text → variables, with every bad line reported by number and reason.
// Hand-written because the common packages (dotenv's `parse`, dotenv-expand) silently skip lines
// they cannot read, and bulk import must tell the user which lines were refused and why.
export type DotenvEntry = { line: number; name: string; value: string };
export type DotenvError = { line: number; message: string };
export type DotenvResult = { vars: Record<string, string>; entries: DotenvEntry[]; errors: DotenvError[] };

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DOUBLE_ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\", $: "$" };

/** Index of the closing quote in `s` from `from`, honouring backslash escapes for double quotes. */
function closingQuote(s: string, from: number, quote: string): number {
  for (let i = from; i < s.length; i++) {
    if (quote === '"' && s[i] === "\\") i++;
    else if (s[i] === quote) return i;
  }
  return -1;
}

const unescapeDouble = (s: string): string => s.replace(/\\(.)/gs, (m, c: string) => DOUBLE_ESCAPES[c] ?? m);

/** Only whitespace or a `# comment` may follow a closing quote. */
const trailingOk = (s: string): boolean => /^\s*(#.*)?$/.test(s);

export function parseDotenv(text: string): DotenvResult {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  const vars: Record<string, string> = {};
  const entries: DotenvEntry[] = [];
  const errors: DotenvError[] = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const body = line.replace(/^export\s+/, "");
    const eq = body.indexOf("=");
    if (eq < 0) {
      errors.push({ line: lineNo, message: "expected KEY=value" });
      continue;
    }
    const name = body.slice(0, eq).trim();
    if (!NAME_RE.test(name)) {
      errors.push({ line: lineNo, message: `invalid name "${name.slice(0, 64)}": use letters, digits and underscores, not starting with a digit` });
      continue;
    }
    if (name.length > 255) {
      errors.push({ line: lineNo, message: `name ${name.slice(0, 32)}… is longer than 255 characters` });
      continue;
    }
    let rest = body.slice(eq + 1).trimStart();
    const quote = rest[0];
    let value: string;
    if (quote === '"' || quote === "'") {
      // a quoted value may continue over the following lines until its closing quote
      let end = closingQuote(rest, 1, quote);
      let j = i;
      while (end < 0 && j + 1 < lines.length) {
        j++;
        rest += "\n" + lines[j];
        end = closingQuote(rest, 1, quote);
      }
      if (end < 0) {
        errors.push({ line: lineNo, message: `${name}: unterminated ${quote === '"' ? "double" : "single"} quote` });
        continue;
      }
      if (!trailingOk(rest.slice(end + 1))) {
        errors.push({ line: j + 1, message: `${name}: unexpected text after the closing quote` });
        i = j;
        continue;
      }
      const inner = rest.slice(1, end);
      value = quote === '"' ? unescapeDouble(inner) : inner;
      i = j;
    } else {
      // unquoted: an inline comment needs whitespace before the '#', so URL fragments survive
      value = rest.replace(/\s+#.*$/, "").trim();
    }
    vars[name] = value;
    entries.push({ line: lineNo, name, value });
  }
  return { vars, entries, errors };
}
