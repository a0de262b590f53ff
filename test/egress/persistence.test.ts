/**
 * Issue 3: stored keys survive a keygate restart — embedded mode (same
 * KEYGATE_DATA_DIR and master key) and Redis mode — and the restarted
 * gateway sends the same key upstream.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type EgressEnv,
  type EgressEnvOptions,
  startEgressEnv,
  type TestUser,
} from "../e2e-helpers/egress-env.ts";
import { hintOf, keyApi } from "../e2e-helpers/key-api.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { testMasterKey } from "../helpers/keygate.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { type MockProviders, startMockProviders } from "../mocks/providers.ts";

let mocks: MockProviders;
let redis: RedisServer;
let dataDir: string;
beforeAll(async () => {
  mocks = await startMockProviders();
  redis = await startRedis();
  dataDir = await mkdtemp(join(tmpdir(), "keygate-persist-"));
});
afterAll(async () => {
  await mocks.close();
  await redis.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function egressKey(env: EgressEnv, user: TestUser, path: string): Promise<string | undefined> {
  const seen = env.mocks.nextRequest();
  const res = await fetch(`${env.egress}${path}`, { headers: { authorization: `Bearer ${user.jwt}` } });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return (await seen).key;
}

describe.each([
  ["embedded mode (same data dir and master key)", () => ({ KEYGATE_DATA_DIR: dataDir })],
  ["Redis mode", () => ({ REDIS_URL: redis.url })],
])("%s", (_, extraEnv) => {
  test("keys stored before a restart are listed, revealed and used after it", async () => {
    const shared: EgressEnvOptions = {
      mocks,
      secret: randomSecret(),
      masterKey: testMasterKey(),
      env: extraEnv(),
    };
    const first = await startEgressEnv(shared);
    const user = await first.newUser();
    const odd = { id: "__proto__", jwt: await mintToken({ sub: "__proto__", secret: first.secret }) };
    first.secrets.push(odd.jwt);
    const openaiKey = await first.storeKey(user, "openai");
    const anthropicKey = await first.storeKey(user, "anthropic");
    const oddKey = await first.storeKey(odd, "google");
    const listed = await (await keyApi(first.ingress, user.jwt).list()).json();
    first.assertLogsClean();
    await first.stop();

    const second = await startEgressEnv(shared);
    try {
      expect(await (await keyApi(second.ingress, user.jwt).list()).json()).toEqual(listed);
      expect(await egressKey(second, user, "/openai/models")).toBe(openaiKey);
      expect(await egressKey(second, user, "/anthropic/v1/models")).toBe(anthropicKey);
      const oddList = (await (await keyApi(second.ingress, odd.jwt).list()).json()) as {
        keys: { hint: string }[];
      };
      expect(oddList.keys.map((k) => k.hint)).toEqual([hintOf(oddKey)]);
      expect(await egressKey(second, odd, "/google/v1beta/models")).toBe(oddKey);
      second.secrets.push(...first.secrets);
      second.assertLogsClean();
    } finally {
      await second.stop();
    }
  });
});

test("Redis mode: two gateways share the vault at once", async () => {
  const shared: EgressEnvOptions = {
    mocks,
    secret: randomSecret(),
    masterKey: testMasterKey(),
    env: { REDIS_URL: redis.url },
  };
  const [a, b] = [await startEgressEnv(shared), await startEgressEnv(shared)];
  try {
    const user = await a.newUser();
    const key = await a.storeKey(user, "openai");
    expect(await egressKey(b, user, "/openai/models")).toBe(key);
    expect((await keyApi(b.ingress, user.jwt).remove("openai")).status).toBe(204);
    const res = await fetch(`${a.egress}/openai/models`, {
      headers: { authorization: `Bearer ${user.jwt}` },
    });
    expect([res.status, res.headers.get("x-keygate-error")]).toEqual([400, "provider-key-missing"]);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test("a stored key is not in the clear at rest (embedded vault file, Redis)", async () => {
  const { readdir, readFile } = await import("node:fs/promises");
  const dir = await mkdtemp(join(tmpdir(), "keygate-at-rest-"));
  const env = await startEgressEnv({ mocks, env: { KEYGATE_DATA_DIR: dir, REDIS_URL: "" } });
  const rEnv = await startEgressEnv({ mocks, env: { REDIS_URL: redis.url } });
  try {
    const user = await env.newUser();
    const fileKey = await env.storeKey(user, "openai");
    const redisKey = await rEnv.storeKey(await rEnv.newUser(), "openai");
    let vaultText = "";
    for (const name of await readdir(dir))
      vaultText += await readFile(join(dir, name), "utf8").catch(() => "");
    // The hint is stored beside the ciphertext: finding it proves the vault file was read.
    expect(vaultText).toContain(hintOf(fileKey).slice(-4));
    expect(vaultText.includes(fileKey)).toBe(false);
    const hashes = (await redis.cli("--scan", "--pattern", "kg:v:*")).split("\n").filter(Boolean);
    let redisText = "";
    for (const hash of hashes) redisText += await redis.cli("hgetall", hash);
    expect(redisText).toContain(hintOf(redisKey).slice(-4));
    expect(redisText.includes(redisKey)).toBe(false);
  } finally {
    await env.stop();
    await rEnv.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
