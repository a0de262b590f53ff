/**
 * keygate on a real 3-master Redis Cluster (`REDIS_CLUSTER_NODES`): exact
 * quotas across two processes, limits whose keys live in different slots,
 * and the vault surviving a restart.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fakeProviderKey } from "../e2e-helpers/fake-keys.ts";
import { chatRequest, postJson } from "../e2e-helpers/http.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type KeygateProcess, spawnKeygate, testMasterKey, writePolicy } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";
import { type RedisCluster, startRedisCluster } from "../helpers/redis.ts";
import { type MockProviders, startMockProviders } from "../mocks/providers.ts";
import { type ClusterProbe, probeCluster } from "./cluster-support.ts";
import { waitFor } from "./support.ts";

const secret = randomSecret();
const masterKey = testMasterKey();
let app: MockApp;
let mocks: MockProviders;
let cluster: RedisCluster;
let probe: ClusterProbe;
let policy: { dir: string; file: string };
let a: KeygateProcess;
let b: KeygateProcess;

const spawn = () =>
  spawnKeygate(policy, {
    KEYGATE_JWT_SECRET: secret,
    APP_URL: app.url,
    OPENAI_URL: mocks.openaiUrl,
    REDIS_CLUSTER_NODES: cluster.seeds,
    KEYGATE_MASTER_KEYS: masterKey,
  });

const storeReady = (k: KeygateProcess) =>
  waitFor(
    async () => (await fetch(`${k.urls.admin}/readyz`)).status === 200,
    "the cluster to be ready",
    10_000,
  );

beforeAll(async () => {
  [app, mocks, cluster] = await Promise.all([startMockApp(), startMockProviders(), startRedisCluster(3)]);
  probe = await probeCluster(cluster);
  policy = await writePolicy(`
version: 1
auth: { algorithms: [HS256], secret_env: KEYGATE_JWT_SECRET }
upstreams: { app: "\${APP_URL}" }
providers:
  openai: { base_url: "\${OPENAI_URL}" }
limits:
  - { name: per-user, scope: app, per: user, rate: 60/1m, paths: ["/user/*"] }
  - { name: everyone, scope: app, per: global, rate: 100000/1m, paths: ["/user/*"] }
  - { name: roomy-user, scope: app, per: user, rate: 100000/1m, paths: ["/global/*"] }
  - { name: all-users, scope: app, per: global, rate: 50/1m, paths: ["/global/*"] }
`);
  [a, b] = await Promise.all([spawn(), spawn()]);
  await Promise.all([a, b].map((k) => storeReady(k)));
}, 60_000);
afterAll(async () => {
  expect(await a.stop()).toBe(0);
  expect(await b.stop()).toBe(0);
  probe.close();
  await Promise.all([app.close(), mocks.close(), cluster.stop()]);
});

const get = async (base: string, token: string, path: string) => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
};

describe("exact quotas on the cluster", () => {
  test("200 parallel requests over two processes, user limit 60/1m: exactly 60 pass; the global counter (another master) counts only those", async () => {
    const global = await probe.ownerOf("kg:q:{g}:everyone:r");
    const user = await probe.userOn((global + 1) % 3, "cluster-exact");
    const token = await mintToken({ sub: user, secret });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => get(i % 2 ? a.urls.ingress : b.urls.ingress, token, "/user/x")),
    );
    expect(results.filter((s) => s === 200)).toHaveLength(60);
    expect(results.filter((s) => s === 429)).toHaveLength(140);
    expect(await probe.used(`kg:q:{u:${user}}:per-user:r`)).toBe(60);
    expect(await probe.used("kg:q:{g}:everyone:r")).toBe(60);
  });

  test("a global limit 50/1m across 10 users: exactly 50 pass, and the users' counters hold only those 50", async () => {
    const users = Array.from({ length: 10 }, (_, i) => `cluster-global-${i}`);
    const tokens = await Promise.all(users.map((sub) => mintToken({ sub, secret })));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        get(i % 2 ? a.urls.ingress : b.urls.ingress, tokens[i % 10]!, "/global/x"),
      ),
    );
    expect(results.filter((s) => s === 200)).toHaveLength(50);
    expect(results.filter((s) => s === 429)).toHaveLength(50);
    expect(await probe.used("kg:q:{g}:all-users:r")).toBe(50);
    const perUser = await Promise.all(users.map((u) => probe.used(`kg:q:{u:${u}}:roomy-user:r`)));
    expect(perUser.reduce((x, y) => x + y, 0)).toBe(50);
    // The 10 users' keys are spread over the masters, so the give-back crossed slots.
    expect(
      new Set(await Promise.all(users.map((u) => probe.ownerOf(`kg:q:{u:${u}}:x:r`)))).size,
    ).toBeGreaterThan(1);
  });
});

describe("the vault on the cluster", () => {
  test("a key stored through one process is read back and used by a freshly started one", async () => {
    const user = "cluster-vault-user";
    const token = await mintToken({ sub: user, secret });
    const key = fakeProviderKey("openai");
    const put = await fetch(`${a.urls.ingress}/_keygate/keys/openai`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ api_key: key }),
    });
    expect(put.status).toBe(200);
    const stored = (await put.json()) as Record<string, unknown>;
    expect(stored["hint"]).toBe(`sk-…${key.slice(-4)}`);
    expect(await probe.vaultHas(user, "openai")).toBe(true);

    const fresh = await spawn();
    try {
      const info = await fetch(`${fresh.urls.ingress}/_keygate/keys/openai`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(info.status).toBe(200);
      expect(await info.json()).toEqual(stored);

      const { path, body } = chatRequest("openai", false);
      const res = await postJson(`${fresh.urls.egress}${path}`, body, { authorization: `Bearer ${token}` });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect(mocks.requests.at(-1)?.key).toBe(key);
    } finally {
      expect(await fresh.stop()).toBe(0);
    }
  });
});
