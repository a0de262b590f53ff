import { afterAll, beforeAll, expect, test } from "vitest";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type InProcessKeygate, startKeygate } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";

const secret = randomSecret();
let app: MockApp;

beforeAll(async () => {
  app = await startMockApp();
});
afterAll(async () => {
  await app.close();
});

const policy = (trust: string) => `
version: 1
auth: { algorithms: [HS256], secret_env: KEYGATE_JWT_SECRET, tier_claim: tier, public: ["/login"] }
trust_proxies: [${trust}]
upstreams: { app: "\${APP_URL}" }
limits:
  - { name: login-per-ip, scope: app, per: ip, rate: 2/1m, paths: ["/login"], methods: [POST] }
  - { name: user-requests, scope: app, per: user, rate: 3/1m }
tiers:
  pro: { user-requests: 6/1m }
`;

async function logins(kg: InProcessKeygate, forwardedFor: string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const xff of forwardedFor) {
    const res = await fetch(`${kg.urls.ingress}/login`, {
      method: "POST",
      headers: { "x-forwarded-for": xff },
    });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

test("from an untrusted peer, a spoofed x-forwarded-for buys no extra per-ip budget", async () => {
  const kg = await startKeygate(policy("10.0.0.0/8"), { KEYGATE_JWT_SECRET: secret, APP_URL: app.url });
  try {
    expect(await logins(kg, ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"])).toEqual([200, 200, 429, 429]);
    expect(app.received.at(-1)?.headers["x-forwarded-for"]).toBe("127.0.0.1");
  } finally {
    await kg.stop();
  }
});

test("behind a trusted proxy, each client address has its own per-ip budget", async () => {
  const kg = await startKeygate(policy("127.0.0.1/32"), { KEYGATE_JWT_SECRET: secret, APP_URL: app.url });
  try {
    expect(await logins(kg, ["1.1.1.1", "1.1.1.1", "1.1.1.1", "2.2.2.2", "2.2.2.2"])).toEqual([
      200, 200, 429, 200, 200,
    ]);
    // Only POST /login counts: a GET is not limited by login-per-ip.
    const get = await fetch(`${kg.urls.ingress}/login`, { headers: { "x-forwarded-for": "1.1.1.1" } });
    expect(get.status).toBe(200);
  } finally {
    await kg.stop();
  }
});

test("a tier from the tier claim replaces the base quota", async () => {
  const kg = await startKeygate(policy("10.0.0.0/8"), { KEYGATE_JWT_SECRET: secret, APP_URL: app.url });
  try {
    const count = async (token: string) => {
      let passed = 0;
      for (let i = 0; i < 8; i++) {
        const res = await fetch(`${kg.urls.ingress}/api/x`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await res.arrayBuffer();
        if (res.status === 200) passed++;
      }
      return passed;
    };
    expect(await count(await mintToken({ sub: "free-user", secret }))).toBe(3);
    expect(await count(await mintToken({ sub: "pro-user", secret, claims: { tier: "pro" } }))).toBe(6);
    const unknownTier = await mintToken({ sub: "odd-user", secret, claims: { tier: "platinum" } });
    expect(await count(unknownTier)).toBe(3);
  } finally {
    await kg.stop();
  }
});
