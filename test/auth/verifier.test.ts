import { CompactSign } from "jose";
import { describe, expect, it } from "vitest";
import { createJwtVerifier, unauthorized } from "../../gateway/auth/verifier.ts";
import { b64url, malformedTokens, mintToken, noneToken, randomSecret } from "../helpers/jwt.ts";
import { authPolicy, challenge, expectUnauthorized } from "./support.ts";

const secret = randomSecret();
const env = { KEYGATE_JWT_SECRET: secret };
const now = () => Math.floor(Date.now() / 1000);

describe("createJwtVerifier: valid tokens", () => {
  it("returns user, tier and exp", async () => {
    const verifier = createJwtVerifier(authPolicy(), env);
    const exp = now() + 600;
    const token = await mintToken({ sub: "alice", secret, exp, claims: { tier: "pro" } });
    expect(await verifier.verify(token)).toEqual({ user: "alice", tier: "pro", exp });
  });

  it("leaves tier undefined when absent or not a string", async () => {
    const verifier = createJwtVerifier(authPolicy(), env);
    const plain = await mintToken({ sub: "bob", secret });
    const numeric = await mintToken({ sub: "bob", secret, claims: { tier: 3 } });
    expect((await verifier.verify(plain)).tier).toBeUndefined();
    expect((await verifier.verify(numeric)).tier).toBeUndefined();
  });

  it("reads the configured user claim and turns a number into a string", async () => {
    const verifier = createJwtVerifier(authPolicy({ userClaim: "uid" }), env);
    const token = await mintToken({ sub: "ignored", secret, claims: { uid: 42 } });
    expect((await verifier.verify(token)).user).toBe("42");
  });

  it("gives the same user for tokens with different iat and jti", async () => {
    const verifier = createJwtVerifier(authPolicy(), env);
    const first = await mintToken({ sub: "carol", secret, iat: now() - 100, jti: "session-1" });
    const second = await mintToken({ sub: "carol", secret, iat: now() - 5, jti: "session-2" });
    expect(first).not.toBe(second);
    expect((await verifier.verify(first)).user).toBe("carol");
    expect((await verifier.verify(second)).user).toBe("carol");
  });

  it("checks issuer and audience when set", async () => {
    const verifier = createJwtVerifier(authPolicy({ issuer: "ohmycoins", audience: "ohmycoins-api" }), env);
    const token = await mintToken({ sub: "dave", secret, iss: "ohmycoins", aud: ["other", "ohmycoins-api"] });
    expect((await verifier.verify(token)).user).toBe("dave");
  });

  it("accepts a token signed with any listed secret (rotation)", async () => {
    const previous = randomSecret();
    const verifier = createJwtVerifier(authPolicy({ secretEnv: ["JWT_CURRENT", "JWT_PREVIOUS"] }), {
      JWT_CURRENT: secret,
      JWT_PREVIOUS: previous,
    });
    expect((await verifier.verify(await mintToken({ sub: "new", secret }))).user).toBe("new");
    expect((await verifier.verify(await mintToken({ sub: "old", secret: previous }))).user).toBe("old");
    await expectUnauthorized(
      verifier.verify(await mintToken({ sub: "x", secret: randomSecret() })),
      "signature invalid",
    );
  });

  it("honours the clock tolerance on exp and nbf", async () => {
    const verifier = createJwtVerifier(authPolicy({ clockToleranceS: 30 }), env);
    const lateButTolerated = await mintToken({ sub: "erin", secret, exp: now() - 10 });
    const earlyButTolerated = await mintToken({ sub: "erin", secret, nbf: now() + 10 });
    expect((await verifier.verify(lateButTolerated)).user).toBe("erin");
    expect((await verifier.verify(earlyButTolerated)).user).toBe("erin");
    await expectUnauthorized(
      verifier.verify(await mintToken({ sub: "erin", secret, exp: now() - 60 })),
      "token expired",
    );
  });
});

describe("createJwtVerifier: every failure is a 401 naming the check", () => {
  const verifier = createJwtVerifier(authPolicy({ issuer: "ohmycoins", audience: "ohmycoins-api" }), env);
  const good = { sub: "alice", secret, iss: "ohmycoins", aud: "ohmycoins-api" };

  it.each(Object.entries(malformedTokens))("malformed: %s", async (_name, token) => {
    await expectUnauthorized(verifier.verify(token), "token malformed");
  });

  it("malformed: empty string and a header that is not an object", async () => {
    await expectUnauthorized(verifier.verify(""), "token malformed");
    await expectUnauthorized(
      verifier.verify(`${b64url("[1]")}.${b64url({ sub: "a" })}.c2ln`),
      "token malformed",
    );
  });

  it("malformed: a correctly signed payload that is not JSON", async () => {
    const signed = await new CompactSign(new TextEncoder().encode("not json"))
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(secret));
    await expectUnauthorized(verifier.verify(signed), "token malformed");
  });

  it("bad signature", async () => {
    const token = await mintToken({ ...good, secret: randomSecret() });
    await expectUnauthorized(verifier.verify(token), "signature invalid");
    const [header, payload] = (await mintToken(good)).split(".");
    await expectUnauthorized(
      verifier.verify(`${header}.${payload}.${b64url("forged")}`),
      "signature invalid",
    );
  });

  it("alg: none, in any letter case", async () => {
    await expectUnauthorized(verifier.verify(noneToken({ sub: "alice" })), "algorithm not allowed");
    const shouty = `${b64url({ alg: "NONE" })}.${b64url({ sub: "alice", exp: now() + 60 })}.`;
    await expectUnauthorized(verifier.verify(shouty), "algorithm not allowed");
  });

  it("an algorithm outside the allowlist", async () => {
    await expectUnauthorized(
      verifier.verify(await mintToken({ ...good, alg: "HS512" })),
      "algorithm not allowed",
    );
  });

  it("expired", async () => {
    const error = await expectUnauthorized(
      verifier.verify(await mintToken({ ...good, exp: now() - 3600 })),
      "token expired",
    );
    expect(error.detail).toBe("The token expired; sign in again or mint a new token.");
  });

  it("nbf in the future", async () => {
    await expectUnauthorized(
      verifier.verify(await mintToken({ ...good, nbf: now() + 3600 })),
      "token not yet valid",
    );
  });

  it("wrong or missing issuer", async () => {
    await expectUnauthorized(verifier.verify(await mintToken({ ...good, iss: "evil" })), "issuer invalid");
    const { iss: _iss, ...noIssuer } = good;
    await expectUnauthorized(verifier.verify(await mintToken(noIssuer)), "issuer invalid");
  });

  it("wrong audience", async () => {
    await expectUnauthorized(
      verifier.verify(await mintToken({ ...good, aud: "other-api" })),
      "audience invalid",
    );
  });

  it("no exp, and an exp that is not a number", async () => {
    await expectUnauthorized(verifier.verify(await mintToken({ ...good, exp: null })), "exp claim missing");
    const textual = await mintToken({ ...good, exp: null, claims: { exp: "tomorrow" } });
    await expectUnauthorized(verifier.verify(textual), "token malformed");
  });

  it("no user claim, or an empty or non-scalar one", async () => {
    const { sub: _sub, ...noUser } = good;
    await expectUnauthorized(verifier.verify(await mintToken(noUser)), "user claim missing");
    await expectUnauthorized(verifier.verify(await mintToken({ ...good, sub: "" })), "user claim missing");
    const objectUser = await mintToken({ ...noUser, claims: { sub: { id: 1 } } });
    await expectUnauthorized(verifier.verify(objectUser), "user claim missing");
  });

  it("never repeats the token in the error", async () => {
    const token = await mintToken({ ...good, exp: now() - 3600 });
    const error = await expectUnauthorized(verifier.verify(token), "token expired");
    expect(JSON.stringify({ message: error.message, headers: error.headers })).not.toContain(
      token.split(".")[1],
    );
  });
});

describe("unauthorized", () => {
  it("builds the missing-token 401 callers throw themselves", () => {
    const error = unauthorized("missing");
    expect(error.status).toBe(401);
    expect(error.headers).toEqual({ "WWW-Authenticate": challenge("token missing") });
    expect(error.detail).toBe("The request carries no token; send it as `Authorization: Bearer <token>`.");
  });
});
