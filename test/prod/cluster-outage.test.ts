/**
 * One master of a 3-master Redis Cluster dies (SIGKILL). Requests whose
 * counters live on its slots follow their limit's `on_store_failure`;
 * requests whose counters live on the surviving masters keep shared counting
 * as if nothing happened; the process keeps running and reports itself
 * degraded rather than down.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fakeProviderKey } from "../e2e-helpers/fake-keys.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type KeygateProcess, spawnKeygate, testMasterKey } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";
import { type RedisCluster, startRedisCluster } from "../helpers/redis.ts";
import { type ClusterProbe, probeCluster, vaultKeyOf } from "./cluster-support.ts";
import { metric, policyWith, statuses, waitFor } from "./support.ts";

const secret = randomSecret();
const DEAD = 0;
let app: MockApp;
let cluster: RedisCluster;
let local: KeygateProcess;
let deny: KeygateProcess;
let deadUser: string;
let liveUser: string;
/** Users whose vault hash (`kg:v:{user}`, a different slot from their quota keys) is on the dead / a live master. */
let deadVaultUser: string;
let liveVaultUser: string;

const token = (sub: string) => mintToken({ sub, secret });
const spawn = (mode: "local" | "deny") =>
  spawnKeygate(
    policyWith([`{ name: shared-${mode}, scope: app, per: user, rate: 4/1m, on_store_failure: ${mode} }`]),
    {
      KEYGATE_JWT_SECRET: secret,
      APP_URL: app.url,
      REDIS_CLUSTER_NODES: cluster.seeds,
      KEYGATE_MASTER_KEYS: testMasterKey(),
      // The local share is ceil(4 / 2) = 2.
      KEYGATE_REPLICAS: "2",
    },
  );
/** A load balancer's health check: keygate finds out about the dead master without spending anyone's quota. */
const healthCheck = async (k: KeygateProcess) => {
  await (await fetch(`${k.urls.admin}/readyz`)).arrayBuffer();
};
const storeReady = (k: KeygateProcess) =>
  waitFor(
    async () => (await fetch(`${k.urls.admin}/readyz`)).status === 200,
    "the store to be ready",
    10_000,
  );

beforeAll(async () => {
  [app, cluster] = await Promise.all([startMockApp(), startRedisCluster(3)]);
  const probe: ClusterProbe = await probeCluster(cluster);
  try {
    deadUser = await probe.userOn(DEAD, "on-dead-master");
    liveUser = await probe.userOn(DEAD + 1, "on-live-master");
    deadVaultUser = await probe.userOn(DEAD, "vault-dead", vaultKeyOf);
    liveVaultUser = await probe.userOn(DEAD + 1, "vault-live", vaultKeyOf);
  } finally {
    probe.close();
  }
  [local, deny] = await Promise.all([spawn("local"), spawn("deny")]);
  await Promise.all([storeReady(local), storeReady(deny)]);
  // One request each while all is well: the shared counters of both users stand at 1.
  for (const k of [local, deny]) {
    for (const user of [deadUser, liveUser])
      expect(await statuses(k.urls.ingress, await token(user), 1)).toEqual([200]);
  }
  await cluster.nodes[DEAD]!.kill();
}, 60_000);
afterAll(async () => {
  expect(await local.stop()).toBe(0);
  expect(await deny.stop()).toBe(0);
  await Promise.all([app.close(), cluster.stop()]);
});

describe("on_store_failure: local", () => {
  test("a user on the dead master is served within the local share (2 of 4)", async () => {
    expect(await statuses(local.urls.ingress, await token(deadUser), 4)).toEqual([200, 200, 429, 429]);
  });

  test("a user on a live master keeps shared counting: 3 more of 4 pass", async () => {
    await healthCheck(local);
    expect(await statuses(local.urls.ingress, await token(liveUser), 4)).toEqual([200, 200, 200, 429]);
  });

  test("the process keeps running; /readyz says degraded; the degraded gauge is 1", async () => {
    expect(local.child.exitCode).toBeNull();
    expect((await fetch(`${local.urls.admin}/healthz`)).status).toBe(200);
    const readyz = await fetch(`${local.urls.admin}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toEqual({ store: "degraded" });
    expect(await metric(local.urls.admin, "keygate_store_degraded")).toBe(1);
    // Logs are JSON lines on stdout (SPEC §2): nothing bypasses the logger, even during an outage.
    expect(local.stderr()).toBe("");
  });
});

describe("on_store_failure: deny", () => {
  test("a user on the dead master gets 503 store-unavailable", async () => {
    const res = await fetch(`${deny.urls.ingress}/api/x`, {
      headers: { authorization: `Bearer ${await token(deadUser)}` },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("x-keygate-error")).toBe("store-unavailable");
    expect(((await res.json()) as Record<string, unknown>)["type"]).toBe(
      "urn:keygate:problem:store-unavailable",
    );
  });

  test("a user on a live master is unaffected: 3 more of 4 pass, then 429", async () => {
    await healthCheck(deny);
    expect(await statuses(deny.urls.ingress, await token(liveUser), 4)).toEqual([200, 200, 200, 429]);
  });

  test("the process keeps running", async () => {
    expect(deny.child.exitCode).toBeNull();
    expect((await fetch(`${deny.urls.admin}/healthz`)).status).toBe(200);
  });
});

describe("the vault with a dead master", () => {
  test("a user on a live master can store a key; a user on the dead master gets 503", async () => {
    const put = (user: string) =>
      token(user).then((t) =>
        fetch(`${local.urls.ingress}/_keygate/keys/openai`, {
          method: "PUT",
          headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
          body: JSON.stringify({ api_key: fakeProviderKey("openai") }),
        }),
      );
    const live = await put(liveVaultUser);
    expect(live.status).toBe(200);
    await live.arrayBuffer();
    const dead = await put(deadVaultUser);
    expect(dead.status).toBe(503);
    expect(dead.headers.get("x-keygate-error")).toBe("store-unavailable");
  });
});

// Runs last (vitest keeps file order): it brings the dead master back.
describe("when the dead master comes back", () => {
  test("shared counting resumes within 5 s for users on its slots, and /readyz is ok again", async () => {
    // Restarted empty, with its cluster config file: same node id, same slots.
    await cluster.nodes[DEAD]!.start();
    const t = await token(deadUser);
    await waitFor(
      async () => (await statuses(deny.urls.ingress, t, 1))[0] === 200,
      "a 200 for a deny-limited user on the restarted master",
      5_000,
    );
    const probe = await probeCluster(cluster);
    try {
      // The 503s while waiting consumed nothing; the one 200 was counted in Redis.
      expect(await probe.used(`kg:q:{u:${deadUser}}:shared-deny:r`)).toBe(1);
    } finally {
      probe.close();
    }
    await waitFor(
      async () => (await (await fetch(`${local.urls.admin}/readyz`)).text()) === '{"store":"ok"}',
      "/readyz to report the store ok",
      5_000,
    );
  });
});
