import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type KeygateProcess, spawnKeygate, testMasterKey, writePolicy } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";

const secret = randomSecret();
const masterKey = testMasterKey();
let app: MockApp;
let redis: RedisServer;

beforeAll(async () => {
  app = await startMockApp();
  redis = await startRedis();
});
afterAll(async () => {
  await app.close();
  await redis.stop();
});

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    KEYGATE_JWT_SECRET: secret,
    APP_URL: app.url,
    REDIS_URL: redis.url,
    KEYGATE_MASTER_KEYS: masterKey,
    ...extra,
  };
}

const get = (base: string, token: string, path = "/api/x") =>
  fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });

describe("exact quotas across two keygate processes sharing one Redis", () => {
  let a: KeygateProcess;
  let b: KeygateProcess;
  beforeAll(async () => {
    const file = await writePolicy(`
version: 1
auth: { algorithms: [HS256], secret_env: KEYGATE_JWT_SECRET }
upstreams: { app: "\${APP_URL}" }
limits:
  - { name: user-requests, scope: app, per: user, rate: 60/1m }
  - { name: everyone, scope: app, per: global, rate: 100000/1m }
`);
    [a, b] = await Promise.all([spawnKeygate(file, env()), spawnKeygate(file, env())]);
  });
  afterAll(async () => {
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  });

  test("200 parallel requests for one user, limit 60/1m: exactly 60 pass, 140 get 429 with headers", async () => {
    const token = await mintToken({ sub: "exact-user", secret });
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => get(i % 2 === 0 ? a.urls.ingress : b.urls.ingress, token)),
    );
    const passed = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(passed.length).toBe(60);
    expect(limited.length).toBe(140);
    for (const res of limited) {
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.headers.get("x-keygate-error")).toBe("rate-limited");
      expect(res.headers.get("ratelimit-policy")).toBe('"user-requests";q=60;w=60');
      expect(res.headers.get("ratelimit")).toMatch(/^"user-requests";r=0;t=\d+$/);
      const retryAfter = Number(res.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body["type"]).toBe("urn:keygate:problem:rate-limited");
      expect(body["violated-policies"]).toEqual(["user-requests"]);
    }
    for (const res of passed) await res.arrayBuffer();
    // The global limit counted only the passing requests: a rejection consumes nothing.
    const global = await redis.cli("--scan", "--pattern", "kg:q:*everyone*");
    expect(await redis.cli("hget", global.split("\n")[0]!, "n")).toBe("60");
  });

  test("tokens with different iat/jti for one user share one budget; another user has their own", async () => {
    const tokens = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        mintToken({ sub: "minter", secret, jti: `j${i}`, iat: Math.floor(Date.now() / 1000) - i }),
      ),
    );
    const statuses: number[] = [];
    for (let round = 0; round < 11; round++) {
      for (const t of tokens) {
        const res = await get(round % 2 ? a.urls.ingress : b.urls.ingress, t);
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    }
    expect(statuses.filter((s) => s === 200).length).toBe(60);
    const other = await get(a.urls.ingress, await mintToken({ sub: "someone-else", secret }));
    expect(other.status).toBe(200);
    expect(other.headers.get("ratelimit")).toBe('"user-requests";r=59;t=60');
  });
});

describe("a rejected request consumes nothing from the limits it passed", () => {
  test("two limits, one exhausted: the other keeps its budget", async () => {
    const file = await writePolicy(`
version: 1
auth: { algorithms: [HS256], secret_env: KEYGATE_JWT_SECRET }
upstreams: { app: "\${APP_URL}" }
limits:
  - { name: wide, scope: app, per: user, rate: 10/1m }
  - { name: narrow, scope: app, per: user, rate: 2/1m, paths: ["/narrow/*"] }
`);
    const kg = await spawnKeygate(file, env());
    try {
      const token = await mintToken({ sub: "all-or-nothing", secret });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await get(kg.urls.ingress, token, "/narrow/x")).status);
      expect(statuses).toEqual([200, 200, 429, 429, 429]);
      // wide saw only the 2 passing requests: 8 left.
      const res = await get(kg.urls.ingress, token, "/other");
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit")).toBe('"wide";r=7;t=60');
    } finally {
      await kg.stop();
    }
  });
});

describe("Redis outage", () => {
  const outagePolicy = (mode: string) => `
version: 1
auth: { algorithms: [HS256], secret_env: KEYGATE_JWT_SECRET }
upstreams: { app: "\${APP_URL}" }
limits:
  - { name: per-user, scope: app, per: user, rate: 4/1m, on_store_failure: ${mode} }
`;

  for (const [mode, expected] of [
    ["local", [200, 200, 429, 429]],
    ["allow", [200, 200, 200, 200]],
    ["deny", [503, 503, 503, 503]],
  ] as const) {
    test(`on_store_failure: ${mode}`, async () => {
      const own = await startRedis();
      // Two replicas: the local share is ceil(4 / 2) = 2.
      const kg = await spawnKeygate(outagePolicy(mode), env({ REDIS_URL: own.url, KEYGATE_REPLICAS: "2" }));
      try {
        const token = await mintToken({ sub: `outage-${mode}`, secret });
        expect((await get(kg.urls.ingress, token)).status).toBe(200);
        await own.kill();
        const statuses = [];
        for (let i = 0; i < 4; i++) {
          const res = await get(kg.urls.ingress, token);
          statuses.push(res.status);
          if (res.status === 503) expect(res.headers.get("x-keygate-error")).toBe("store-unavailable");
        }
        expect(statuses).toEqual(expected);
        // Redis comes back: shared counting resumes within 5 s (a fresh, empty Redis).
        await own.start();
        const deadline = Date.now() + 5_000;
        let resumed = false;
        while (Date.now() < deadline && !resumed) {
          const res = await get(kg.urls.ingress, token);
          resumed = res.status === 200 && (await own.cli("--scan", "--pattern", "kg:q:*per-user*")) !== "";
          if (!resumed) await new Promise((r) => setTimeout(r, 200));
        }
        expect(resumed).toBe(true);
      } finally {
        await kg.stop();
        await own.stop();
      }
    });
  }
});
