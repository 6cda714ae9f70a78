import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { parseProcfile, ProcfileError } from "../../src/lib/procfile";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(120_000);

describe("parseProcfile", () => {
  test("no Procfile → a single web process running the image's CMD", () => {
    expect(parseProcfile(null)).toEqual({ web: null });
    expect(parseProcfile(undefined)).toEqual({ web: null });
  });
  test("name: command lines; comments, blanks, CRLF and colons in commands", () => {
    expect(parseProcfile("# comment\r\nweb: httpd -f -p $PORT\r\n\r\nworker:  sh -c 'echo a:b; sleep 1000'\n")).toEqual({
      web: "httpd -f -p $PORT",
      worker: "sh -c 'echo a:b; sleep 1000'",
    });
  });
  test("invalid lines fail naming the line", () => {
    const cases: [string, RegExp][] = [
      ["web: ok\nthis is not valid\n", /line 2 \('this is not valid'\): expected 'name: command'/],
      ["Web: x", /line 1.*process type 'Web' must be/],
      ["web:\n", /line 1.*has no command/],
      ["web: a\nweb: b", /line 2.*defined twice/],
      ["bad_name: x", /line 1.*'bad_name'/],
      ["# only comments\n", /no process types/],
    ];
    for (const [text, re] of cases) expect(() => parseProcfile(text)).toThrow(re);
    expect(() => parseProcfile("x")).toThrow(ProcfileError);
  });
});
