import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCipher, parseCiphertext } from "../../gateway/vault/cipher.ts";
import { VaultError } from "../../gateway/vault/errors.ts";
import { parseMasterKeys } from "../../gateway/vault/keyring.ts";
import { fakeApiKey, fakeMasterKey } from "./fake-keys.ts";

const keyring = parseMasterKeys(fakeMasterKey("k1"));
const cipher = createCipher(keyring);

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(VaultError);
    return (error as VaultError).code;
  }
  throw new Error("expected a VaultError");
}

/** Flips one bit of a base64url part of the ciphertext; `byte` counts from the part's end when negative. */
function flipBit(text: string, part: 2 | 3, byte: number): string {
  const parts = text.split(".");
  const bytes = Buffer.from(parts[part]!, "base64url");
  const at = byte < 0 ? bytes.length + byte : byte;
  bytes[at]! ^= 0x01;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

describe("vault cipher", () => {
  const apiKey = fakeApiKey();
  const sealed = cipher.encrypt("alice", "openai", apiKey);

  it("round-trips and names version and key id, without the key in the text", () => {
    expect(sealed).toMatch(/^kgv1\.k1\.[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(apiKey);
    expect(cipher.decrypt("alice", "openai", sealed)).toBe(apiKey);
  });

  it("round-trips unicode and separator-heavy ids, which stay distinct", () => {
    const user = "ユーザー:é/ü|\u0000x";
    const c = cipher.encrypt(user, "my.provider:1", apiKey);
    expect(cipher.decrypt(user, "my.provider:1", c)).toBe(apiKey);
    const colon = cipher.encrypt("a:b", "c", apiKey);
    expect(codeOf(() => cipher.decrypt("a", ":bc", colon))).toBe("auth-failed");
    expect(codeOf(() => cipher.decrypt("a", "b:c", colon))).toBe("auth-failed");
    expect(codeOf(() => cipher.decrypt("a:", "bc", colon))).toBe("auth-failed");
  });

  it("fails closed on a ciphertext moved to another user or provider", () => {
    expect(codeOf(() => cipher.decrypt("mallory", "openai", sealed))).toBe("auth-failed");
    expect(codeOf(() => cipher.decrypt("alice", "anthropic", sealed))).toBe("auth-failed");
  });

  it("fails closed on a flipped bit in nonce, body or tag", () => {
    expect(codeOf(() => cipher.decrypt("alice", "openai", flipBit(sealed, 2, 0)))).toBe("auth-failed");
    expect(codeOf(() => cipher.decrypt("alice", "openai", flipBit(sealed, 2, 23)))).toBe("auth-failed");
    expect(codeOf(() => cipher.decrypt("alice", "openai", flipBit(sealed, 3, 0)))).toBe("auth-failed");
    expect(codeOf(() => cipher.decrypt("alice", "openai", flipBit(sealed, 3, -1)))).toBe("auth-failed");
  });

  it.each([
    ["empty", ""],
    ["no parts", "garbage"],
    ["three parts", "kgv1.k1.AAAA"],
    ["five parts", `${sealed}.x`],
    ["no version", sealed.replace(/^kgv1/, "xx")],
    ["bad key id", sealed.replace(".k1.", ".K_1.")],
    ["nonce too short", sealed.replace(/^(kgv1\.k1\.)[^.]{4}/, "$1")],
    ["nonce with padding", sealed.replace(/^(kgv1\.k1\.[^.]+)/, "$1=")],
    ["nonce not base64url", sealed.replace(/^(kgv1\.k1\.).(.*)$/, "$1+$2")],
    ["body shorter than a tag", sealed.replace(/[^.]+$/, "AAAAAAAAAAAAAAAAAAAA")],
    ["truncated body", sealed.slice(0, sealed.lastIndexOf(".") + 5)],
    ["body not base64url", `${sealed.slice(0, -2)}/=`],
  ])("rejects a malformed ciphertext: %s", (_label, text) => {
    expect(codeOf(() => cipher.decrypt("alice", "openai", text))).toBe("malformed");
  });

  it("rejects base64url with non-zero padding bits (one spelling per ciphertext)", () => {
    // 57 + 16 bytes → 98 characters: the last one carries 4 unused bits.
    const odd = cipher.encrypt("alice", "openai", `${fakeApiKey()}x`.slice(0, 57));
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(odd.at(-1)!);
    const spelledTwice = odd.slice(0, -1) + alphabet[last + 1];
    expect(Buffer.from(spelledTwice.split(".")[3]!, "base64url")).toEqual(
      Buffer.from(odd.split(".")[3]!, "base64url"),
    );
    expect(codeOf(() => parseCiphertext(spelledTwice))).toBe("malformed");
    expect(cipher.decrypt("alice", "openai", odd)).toHaveLength(57);
  });

  it("rejects an unknown format version and an unknown key id with their own codes", () => {
    expect(codeOf(() => cipher.decrypt("alice", "openai", sealed.replace(/^kgv1/, "kgv2")))).toBe(
      "unknown-version",
    );
    expect(codeOf(() => cipher.decrypt("alice", "openai", sealed.replace(".k1.", ".k9.")))).toBe(
      "unknown-key",
    );
  });

  it("fails closed under the wrong master key with the same id", () => {
    const other = createCipher(parseMasterKeys(fakeMasterKey("k1")));
    expect(codeOf(() => other.decrypt("alice", "openai", sealed))).toBe("auth-failed");
  });

  it("never puts key material or the plaintext in error messages", () => {
    const secrets = [apiKey, sealed.split(".")[3]!];
    for (const text of [sealed.replace(".k1.", ".k9."), flipBit(sealed, 3, 0), sealed.slice(0, -3)]) {
      try {
        cipher.decrypt("alice", "openai", text);
      } catch (error) {
        for (const secret of secrets) expect(String(error)).not.toContain(secret);
      }
    }
  });

  it("draws a fresh nonce for each of 10,000 encryptions of one key", () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 10_000; i++) nonces.add(cipher.encrypt("alice", "openai", apiKey).split(".")[2]!);
    expect(nonces.size).toBe(10_000);
  });

  it("decrypts keys up to 256 characters", () => {
    const long = `sk-${randomBytes(200).toString("base64url")}`.slice(0, 256);
    expect(cipher.decrypt("u", "p", cipher.encrypt("u", "p", long))).toBe(long);
  });
});
