import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { scrubSecrets } from "../../gateway/log/scrub.ts";
import { mintToken, noneToken, randomSecret } from "../helpers/jwt.ts";

describe("scrubSecrets", () => {
  it("returns the very same string when no candidate prefix occurs", () => {
    const text = "GET /api/v1/items 200 user=alice sk=1 eyj AIz";
    expect(scrubSecrets(text)).toBe(text);
  });

  it("replaces each provider-key shape", () => {
    const keys = [
      `sk-test-${randomBytes(24).toString("hex")}`,
      `sk-proj-${randomBytes(24).toString("base64url")}`,
      `sk-ant-api03-${randomBytes(24).toString("base64url")}`,
      `AIza${randomBytes(26).toString("base64url")}`,
    ];
    for (const key of keys) expect(scrubSecrets(`key="${key}" end`)).toBe('key="[REDACTED]" end');
  });

  it("replaces signed and unsigned JWTs", async () => {
    const signed = await mintToken({ sub: "alice", secret: randomSecret() });
    const unsigned = noneToken({ sub: "alice" });
    expect(scrubSecrets(`a ${signed} b ${unsigned} c`)).toBe("a [REDACTED] b [REDACTED] c");
  });

  it("keeps text that only resembles a prefix", () => {
    const text = "task-runner sk-short eyJ AIza-no";
    expect(scrubSecrets(text)).toBe(text);
  });
});
