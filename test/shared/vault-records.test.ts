import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { spawnKeygate, testMasterKey, writePolicy } from "../helpers/keygate.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";

const secret = randomSecret();
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const policy = `
version: 1
auth: { algorithms: [HS256], secret_env: KEYGATE_JWT_SECRET }
upstreams: { app: "http://127.0.0.1:9" }
limits: []
`;

async function recordsGauge(admin: string): Promise<string | undefined> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  return /^keygate_vault_records (\S+)$/m.exec(text)?.[1];
}

test("keygate_vault_records counts stored keys; an emptied vault that held keys is reported", async () => {
  const file = await writePolicy(policy);
  const env = { KEYGATE_JWT_SECRET: secret, REDIS_URL: redis.url, KEYGATE_MASTER_KEYS: testMasterKey() };
  const first = await spawnKeygate(file, env);
  const users = await Promise.all(["ann", "bob"].map((sub) => mintToken({ sub, secret })));
  for (const jwt of users) {
    const res = await fetch(`${first.urls.ingress}/_keygate/keys/openai`, {
      method: "PUT",
      headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
      body: JSON.stringify({ api_key: `sk-test-${randomBytes(20).toString("hex")}` }),
    });
    expect(res.status).toBe(200);
  }
  expect(await redis.cli("hget", "kg:v:meta", "records")).toBe("2");
  await first.stop();

  // A restart reads the count at once.
  const second = await spawnKeygate(file, env);
  expect(await recordsGauge(second.urls.admin)).toBe("2");
  expect(second.stdout()).not.toContain("the vault is empty");
  await second.stop();

  // Keys disappear behind keygate's back while the marker survives (e.g. hashes lost in a bad restore).
  await redis.cli("del", "kg:v:{ann}", "kg:v:{bob}");
  await redis.cli("hset", "kg:v:meta", "records", "0");
  const third = await spawnKeygate(file, env);
  await new Promise((r) => setTimeout(r, 300));
  expect(await recordsGauge(third.urls.admin)).toBe("0");
  expect(third.stdout()).toContain("the vault is empty although it has held keys");
  await third.stop();
});
