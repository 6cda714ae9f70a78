import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { parseDotenv } from "../../src/lib/dotenv";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(120_000);

describe("parseDotenv", () => {
  test("comments, blank lines, export, quotes, escapes, empty values, CRLF", () => {
    const text = [
      "# a comment",
      "",
      "   ",
      "PLAIN=hello world",
      "export EXPORTED=yes",
      "SPACED = around ",
      "SINGLE='it''s $HOME \\n raw'",
      'DOUBLE="line1\\nline2\\t\\"q\\" \\\\ end"',
      "EMPTY=",
      'EMPTY_QUOTED=""',
      "URL=http://x.test/#frag # trailing comment",
      'AFTER="v" # comment after quote',
      "HASH_IN_QUOTES='a # not a comment'",
    ].join("\r\n");
    const r = parseDotenv(text);
    expect(r.errors).toEqual([{ line: 7, message: "SINGLE: unexpected text after the closing quote" }]);
    expect(r.vars).toEqual({
      PLAIN: "hello world",
      EXPORTED: "yes",
      SPACED: "around",
      DOUBLE: 'line1\nline2\t"q" \\ end',
      EMPTY: "",
      EMPTY_QUOTED: "",
      URL: "http://x.test/#frag",
      AFTER: "v",
      HASH_IN_QUOTES: "a # not a comment",
    });
    expect(r.entries.find((e) => e.name === "URL")?.line).toBe(11);
  });

  test("single quotes keep backslashes literally", () => {
    expect(parseDotenv("A='x\\ny'").vars).toEqual({ A: "x\\ny" });
  });

  test("multi-line quoted values (PEM keys) and the line numbers after them", () => {
    const r = parseDotenv('KEY="-----BEGIN-----\nabc\n-----END-----"\nNEXT=1\nbad line\n');
    expect(r.vars).toEqual({ KEY: "-----BEGIN-----\nabc\n-----END-----", NEXT: "1" });
    expect(r.errors).toEqual([{ line: 5, message: "expected KEY=value" }]);
  });

  test("every bad line is reported with its number and reason; good lines survive", () => {
    const text = ["GOOD=1", "1BAD=x", "no equals sign", "BAD-NAME=y", "=novalue", 'OPEN="never closed', "ALSO_GOOD=2"].join("\n");
    const r = parseDotenv(text);
    expect(r.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6]);
    expect(r.errors[0]!.message).toContain('invalid name "1BAD"');
    expect(r.errors[4]!.message).toBe("OPEN: unterminated double quote");
    // the unterminated quote does not swallow the lines after it
    expect(r.vars).toEqual({ GOOD: "1", ALSO_GOOD: "2" });
  });

  test("later duplicates win; BOM is ignored; overlong names are refused", () => {
    const r = parseDotenv("\uFEFFA=1\nA=2\n" + "N".repeat(256) + "=x");
    expect(r.vars).toEqual({ A: "2" });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.line).toBe(3);
  });
});
