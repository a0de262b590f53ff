import { afterEach, describe, expect, it, vi } from "vitest";
import { createTokenCache } from "../../gateway/auth/token-cache.ts";
import { createJwtVerifier } from "../../gateway/auth/verifier.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { authPolicy, expectUnauthorized } from "./support.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("verifier cache", () => {
  it("rejects a cached token once it expires (plus tolerance)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
    const secret = randomSecret();
    const verifier = createJwtVerifier(authPolicy({ clockToleranceS: 5 }), { KEYGATE_JWT_SECRET: secret });
    const exp = Math.floor(Date.now() / 1000) + 10;
    const token = await mintToken({ sub: "alice", secret, exp });
    expect((await verifier.verify(token)).user).toBe("alice");

    vi.setSystemTime((exp + 4) * 1000); // inside the tolerance: still served
    expect((await verifier.verify(token)).user).toBe("alice");
    vi.setSystemTime((exp + 5) * 1000); // at exp + tolerance: gone from the cache, and jose says expired
    await expectUnauthorized(verifier.verify(token), "token expired");
  });

  it("does not cache failures: a token valid later is accepted later", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
    const secret = randomSecret();
    const verifier = createJwtVerifier(authPolicy({ clockToleranceS: 0 }), { KEYGATE_JWT_SECRET: secret });
    const nbf = Math.floor(Date.now() / 1000) + 60;
    const token = await mintToken({ sub: "bob", secret, nbf, exp: nbf + 60 });
    await expectUnauthorized(verifier.verify(token), "token not yet valid");
    vi.setSystemTime(nbf * 1000);
    expect((await verifier.verify(token)).user).toBe("bob");
  });
});

describe("createTokenCache", () => {
  it("serves an entry until its deadline, exclusive", () => {
    const cache = createTokenCache<string>(10);
    cache.set("t", "alice", 1_000);
    expect(cache.get("t", 999)).toBe("alice");
    expect(cache.get("t", 1_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("evicts the oldest entry when full", () => {
    const cache = createTokenCache<string>(2);
    cache.set("a", "A", 10_000);
    cache.set("b", "B", 10_000);
    cache.set("c", "C", 10_000);
    expect([cache.get("a", 0), cache.get("b", 0), cache.get("c", 0)]).toEqual([undefined, "B", "C"]);
    expect(cache.size).toBe(2);
  });

  it("refuses a size that is not a positive integer", () => {
    expect(() => createTokenCache(0)).toThrow("token cache: maxEntries must be a positive integer, got 0");
  });
});
