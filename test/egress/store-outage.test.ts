/**
 * SPEC §4 error table: when the vault (Redis) cannot be read, the egress
 * answers 503 in the provider's shape (`api_error` / `service_unavailable`,
 * `api_error`, `UNAVAILABLE`) with `x-keygate-error: store-unavailable`, and
 * sends nothing upstream; the key API answers problem+json 503. Once Redis is
 * back, calls work again.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { chatRequest, errorOf, postJson } from "../e2e-helpers/http.ts";
import { keyApi } from "../e2e-helpers/key-api.ts";
import { randomSecret } from "../helpers/jwt.ts";
import { testMasterKey } from "../helpers/keygate.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { type MockProviders, startMockProviders } from "../mocks/providers.ts";

const PROVIDERS = ["openai", "anthropic", "google"] as const;
const SHAPES = {
  openai: {
    error: { message: expect.any(String), type: "api_error", param: null, code: "service_unavailable" },
  },
  anthropic: { type: "error", error: { type: "api_error", message: expect.any(String) } },
  google: { error: { code: 503, message: expect.any(String), status: "UNAVAILABLE" } },
} as const;

let mocks: MockProviders;
let redis: RedisServer;
let reader: EgressEnv;
let writer: EgressEnv;
beforeAll(async () => {
  mocks = await startMockProviders();
  redis = await startRedis();
  // Keys are written through `writer`, so `reader` has never cached them.
  const shared = { mocks, secret: randomSecret(), masterKey: testMasterKey(), env: { REDIS_URL: redis.url } };
  [reader, writer] = [await startEgressEnv(shared), await startEgressEnv(shared)];
});
afterAll(async () => {
  reader.secrets.push(...writer.secrets);
  reader.assertLogsClean();
  writer.assertLogsClean();
  await reader.stop();
  await writer.stop();
  await mocks.close();
  await redis.stop();
});

describe("Redis down", () => {
  test("egress: 503 store-unavailable in each provider's shape, nothing sent; back to 200 after Redis returns", async () => {
    const user = await writer.newUser();
    for (const p of PROVIDERS) await writer.storeKey(user, p);
    await redis.kill();
    try {
      for (const provider of PROVIDERS) {
        const before = mocks.requests.length;
        const { path, body } = chatRequest(provider, false);
        const e = await errorOf(
          await postJson(`${reader.egress}${path}`, body, { authorization: `Bearer ${user.jwt}` }),
        );
        expect([provider, e.status, e.slug]).toEqual([provider, 503, "store-unavailable"]);
        expect(e.body).toEqual(SHAPES[provider]);
        expect(mocks.requests.length).toBe(before);
      }
      const list = await keyApi(reader.ingress, user.jwt).list();
      expect([list.status, list.headers.get("content-type"), list.headers.get("x-keygate-error")]).toEqual([
        503,
        "application/problem+json",
        "store-unavailable",
      ]);
    } finally {
      await redis.start();
    }
    let status = 503;
    for (let i = 0; i < 200 && status === 503; i++) {
      const { path, body } = chatRequest("openai", false);
      const res = await postJson(`${reader.egress}${path}`, body, { authorization: `Bearer ${user.jwt}` });
      status = res.status;
      await res.arrayBuffer();
      if (status === 503) await new Promise((r) => setTimeout(r, 50));
    }
    // Redis restarted empty (nothing persisted), so the key is gone: the vault answers again, with "no key".
    expect(status).toBe(400);
  });
});
