import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { createSecrets, newMasterKey, parseMasterKey, SealError, SEALED_TOKEN_RE } from "../../src/lib/crypto";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(120_000);

describe("crypto", () => {
  test("seal/open round trip; ciphertext differs each time and hides the plaintext", () => {
    const s = createSecrets(newMasterKey());
    const plain = "postgres://user:päss@db/x\nline2";
    const a = s.seal(plain);
    const b = s.seal(plain);
    expect(a).not.toBe(b);
    expect(a).not.toContain("päss");
    expect(s.open(a)).toBe(plain);
    expect(s.open(s.seal(""))).toBe("");
    expect(a.match(SEALED_TOKEN_RE)).toEqual([a]);
  });

  test("another key or a tampered token does not open", () => {
    const s = createSecrets(newMasterKey());
    const other = createSecrets(newMasterKey());
    const sealed = s.seal("value");
    expect(() => other.open(sealed)).toThrow(SealError);
    const flipped = sealed.slice(0, -2) + (sealed.at(-2) === "A" ? "B" : "A") + sealed.at(-1);
    expect(() => s.open(flipped)).toThrow(SealError);
    expect(() => s.open("plain")).toThrow(SealError);
    expect(() => s.open("enc:v1:AAAA")).toThrow(SealError);
  });

  test("master key text: hex or base64 of exactly 32 bytes", () => {
    const key = newMasterKey();
    const hex = Buffer.from(key).toString("hex");
    expect(Buffer.from(parseMasterKey(hex)!).equals(Buffer.from(key))).toBe(true);
    expect(Buffer.from(parseMasterKey(Buffer.from(key).toString("base64"))!).equals(Buffer.from(key))).toBe(true);
    expect(Buffer.from(parseMasterKey(Buffer.from(key).toString("base64url"))!).equals(Buffer.from(key))).toBe(true);
    expect(parseMasterKey("short")).toBeNull();
    expect(parseMasterKey(hex.slice(2))).toBeNull();
    expect(parseMasterKey(Buffer.alloc(31).toString("base64"))).toBeNull();
  });
});
