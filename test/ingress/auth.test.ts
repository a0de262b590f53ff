import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mintToken, noneToken, randomSecret } from "../helpers/jwt.ts";
import { type InProcessKeygate, startKeygate } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";

const secret = randomSecret();
let app: MockApp;
let kg: InProcessKeygate;

beforeAll(async () => {
  app = await startMockApp();
  kg = await startKeygate(
    `
version: 1
auth:
  algorithms: [HS256]
  secret_env: KEYGATE_JWT_SECRET
  issuer: keygate-tests
  audience: app-api
  clock_tolerance: 5s
upstreams: { app: "\${APP_URL}" }
limits: []
`,
    { KEYGATE_JWT_SECRET: secret, APP_URL: app.url },
  );
});
afterAll(async () => {
  await kg.stop();
  await app.close();
});

const good = { secret, iss: "keygate-tests", aud: "app-api" };
const now = () => Math.floor(Date.now() / 1000);

describe("every failed JWT check is a 401 naming the check", () => {
  const cases: [string, () => Promise<string | undefined>, string][] = [
    ["missing", async () => undefined, "token missing"],
    ["malformed", async () => "Bearer not.a-jwt", "token malformed"],
    [
      "bad signature",
      async () => `Bearer ${await mintToken({ ...good, sub: "u", secret: randomSecret() })}`,
      "signature invalid",
    ],
    [
      "alg none",
      async () => `Bearer ${noneToken({ sub: "u", iss: "keygate-tests", aud: "app-api" })}`,
      "algorithm not allowed",
    ],
    [
      "algorithm outside the allowlist",
      async () => `Bearer ${await mintToken({ ...good, sub: "u", alg: "HS512" })}`,
      "algorithm not allowed",
    ],
    [
      "expired",
      async () => `Bearer ${await mintToken({ ...good, sub: "u", exp: now() - 60 })}`,
      "token expired",
    ],
    [
      "nbf in the future",
      async () => `Bearer ${await mintToken({ ...good, sub: "u", nbf: now() + 120 })}`,
      "token not yet valid",
    ],
    [
      "wrong issuer",
      async () => `Bearer ${await mintToken({ ...good, sub: "u", iss: "someone-else" })}`,
      "issuer invalid",
    ],
    [
      "wrong audience",
      async () => `Bearer ${await mintToken({ ...good, sub: "u", aud: "other-api" })}`,
      "audience invalid",
    ],
    [
      "no exp",
      async () => `Bearer ${await mintToken({ ...good, sub: "u", exp: null })}`,
      "exp claim missing",
    ],
  ];
  for (const [name, authorization, description] of cases) {
    test(name, async () => {
      const before = app.received.length;
      const value = await authorization();
      const res = await fetch(`${kg.urls.ingress}/api/x`, { headers: value ? { authorization: value } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe(
        `Bearer error="invalid_token", error_description="${description}"`,
      );
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(((await res.json()) as { type: string }).type).toBe("urn:keygate:problem:unauthorized");
      expect(app.received.length).toBe(before);
    });
  }

  test("within clock tolerance an expired-by-2s token still passes", async () => {
    const token = await mintToken({ ...good, sub: "tolerant", exp: now() - 2 });
    expect(
      (await fetch(`${kg.urls.ingress}/api/x`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
  });
});
