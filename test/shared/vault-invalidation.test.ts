import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type KeygateProcess, spawnKeygate, testMasterKey, writePolicy } from "../helpers/keygate.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { type MockProviders, startMockProviders } from "../mocks/providers.ts";

const secret = randomSecret();
let redis: RedisServer;
let mocks: MockProviders;
let a: KeygateProcess;
let b: KeygateProcess;

const fakeKey = () => `sk-test-${randomBytes(20).toString("hex")}`;

beforeAll(async () => {
  redis = await startRedis();
  mocks = await startMockProviders();
  const policy = await writePolicy(`
version: 1
auth: { algorithms: [HS256], secret_env: KEYGATE_JWT_SECRET }
upstreams: { app: "http://127.0.0.1:9" }
providers:
  openai: { base_url: "${mocks.openaiUrl}" }
limits: []
`);
  const env = { KEYGATE_JWT_SECRET: secret, REDIS_URL: redis.url, KEYGATE_MASTER_KEYS: testMasterKey() };
  [a, b] = await Promise.all([spawnKeygate(policy, env), spawnKeygate(policy, env)]);
});
afterAll(async () => {
  await Promise.all([a.stop(), b.stop()]);
  await mocks.close();
  await redis.stop();
});

async function putKey(ingress: string, jwt: string, key: string): Promise<void> {
  const res = await fetch(`${ingress}/_keygate/keys/openai`, {
    method: "PUT",
    headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
    body: JSON.stringify({ api_key: key }),
  });
  expect(res.status).toBe(200);
}

async function keySentUpstream(egress: string, jwt: string): Promise<string | undefined> {
  const before = mocks.requests.length;
  const res = await fetch(`${egress}/openai/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  return mocks.requests[before]?.headers["authorization"] as string | undefined;
}

test("a key changed on one instance is used by the other at once, and a removed key stops being used", async () => {
  const jwt = await mintToken({ sub: "rotating-user", secret });
  const first = fakeKey();
  await putKey(a.urls.ingress, jwt, first);
  // B reads (and caches) the first key.
  expect(await keySentUpstream(b.urls.egress, jwt)).toBe(`Bearer ${first}`);

  const second = fakeKey();
  await putKey(a.urls.ingress, jwt, second);
  // The announcement travels over Redis pub/sub; allow it a moment, far below the 60 s cache TTL.
  await new Promise((r) => setTimeout(r, 200));
  expect(await keySentUpstream(b.urls.egress, jwt)).toBe(`Bearer ${second}`);

  const removed = await fetch(`${a.urls.ingress}/_keygate/keys/openai`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${jwt}` },
  });
  expect(removed.status).toBe(204);
  await new Promise((r) => setTimeout(r, 200));
  const res = await fetch(`${b.urls.egress}/openai/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [] }),
  });
  expect(res.status).toBe(400);
  expect(res.headers.get("x-keygate-error")).toBe("provider-key-missing");
  // No process ever logged a key or the JWT.
  for (const out of [a.stdout(), b.stdout()]) {
    expect(out).not.toContain(first);
    expect(out).not.toContain(second);
    expect(out).not.toContain(jwt);
  }
});
