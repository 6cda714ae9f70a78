import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { createRedactor, createServerRedactor, looksSecretName, redactableByName } from "../../src/lib/redact";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(120_000);

describe("createRedactor", () => {
  test("replaces every occurrence, longest value first", () => {
    const r = createRedactor(["hunter2-long", "hunter2-long-er", "abc"]);
    expect(r("a hunter2-long-er and hunter2-long, hunter2-long")).toBe("a [redacted] and [redacted], [redacted]");
    // values under four characters are left alone (they would shred ordinary text)
    expect(r("abc abc")).toBe("abc abc");
  });

  test("regex metacharacters in values are literal", () => {
    const r = createRedactor(["a.b*c(d)$"]);
    expect(r("x a.b*c(d)$ y aXbbbcd")).toBe("x [redacted] y aXbbbcd");
  });

  test("JSON-escaped and line-split forms of a value are covered", () => {
    const secret = 'pa"ss\nword-line-two';
    const r = createRedactor([secret]);
    expect(r(JSON.stringify({ v: secret }))).toBe('{"v":"[redacted]"}');
    expect(r("echo word-line-two")).toBe("echo [redacted]");
  });

  test("no values → identity", () => {
    expect(createRedactor([])("anything")).toBe("anything");
  });

  test("server redactor swaps its value set in place", () => {
    const s = createServerRedactor(["first-secret"]);
    const held = s.redact;
    expect(held("first-secret")).toBe("[redacted]");
    s.update(["second-secret"]);
    expect(held("first-secret second-secret")).toBe("first-secret [redacted]");
  });

  test("secret-looking names", () => {
    for (const n of ["API_KEY", "GITHUB_TOKEN", "AWS_SECRET", "DB_PASSWORD", "PASSWORD_FILE", "password"]) expect(looksSecretName(n)).toBe(true);
    for (const n of ["KEYBOARD", "PORT", "TOKENIZER_PATH", "SECRETARY"]) expect(looksSecretName(n)).toBe(false);
  });
});

test("values kept only for their name must look like credentials", () => {
  for (const v of ["true", "enabled", "8080", "1.5", "short"]) expect(redactableByName(v)).toBe(false);
  for (const v of ["ghp_abcdef123456", "correct horse battery"]) expect(redactableByName(v)).toBe(true);
});
