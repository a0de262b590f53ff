/**
 * A partial Redis Cluster outage: one of three masters is killed. Only the
 * counters on its slots follow on_store_failure; the others keep exact shared
 * counting, and a request stays all-or-nothing across the two.
 */
import type { Cluster } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, StoreUnavailableError } from "../../gateway/errors.ts";
import { createRedisStore, slotOf } from "../../gateway/limits/redis-store.ts";
import { createNodeHealth } from "../../gateway/limits/store-health.ts";
import type { Counter } from "../../gateway/limits/types.ts";
import { createMetrics } from "../../gateway/metrics.ts";
import { createRedisConnection, whenReady } from "../../gateway/store/redis.ts";
import { type RedisCluster, startRedisCluster } from "../helpers/redis.ts";
import { harness, limit, metricValue, unique, until } from "./fixtures.ts";

let cluster: RedisCluster;
let redis: Cluster;
/** Index of the master that is killed: one that does not serve `{g}`. */
let dead: number;
let deadUser: { user: string; tier: undefined; ip: string };
let liveUser: { user: string; tier: undefined; ip: string };

const ownerOf = (tag: string): number => {
  const node = redis.slots[slotOf(tag)]![0]!;
  return cluster.nodes.findIndex((n) => node === `127.0.0.1:${n.port}`);
};
const userWhere = (pick: (owner: number) => boolean, prefix: string) => {
  for (let i = 0; ; i++) {
    const user = `${prefix}-${i}`;
    if (pick(ownerOf(`{u:${user}}`))) return { user, tier: undefined, ip: "192.0.2.1" };
  }
};
/** What Redis holds for a window counter (0 when absent). */
const used = async (key: string) => Number((await redis.hget(key, "n")) ?? 0);

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  redis = createRedisConnection({ REDIS_CLUSTER_NODES: cluster.seeds }) as Cluster;
  await whenReady(redis, 10_000);
  dead = (ownerOf("{g}") + 1) % 3;
  deadUser = userWhere((o) => o === dead, "dead");
  liveUser = userWhere((o) => o !== dead, "live");
  await cluster.nodes[dead]!.kill();
}, 30_000);
afterAll(async () => {
  redis.disconnect();
  await cluster.stop();
});

it("computes the slot of a hash tag as Redis does", async () => {
  for (const tag of ["{g}", "{u:alice}", "{ip:192.0.2.1}", `{u:${deadUser.user}}`]) {
    expect(slotOf(tag)).toBe(Number(await cluster.nodes[ownerOf("{g}")]!.cli("cluster", "keyslot", tag)));
  }
});

describe("with one master dead", () => {
  it("only the dead master's groups go local; the live groups keep shared counting", async () => {
    const { quotas, metrics } = harness(redis, { replicas: 2 });
    const perUser = limit({ name: unique("pu"), rate: "4/1m" });
    const global = limit({ name: unique("pg"), per: "global", rate: "100/1m" });
    // A failing health check must not take the live masters out of shared counting.
    expect(await quotas.ping()).toBe("degraded");
    const deadAllowed = [];
    for (let i = 0; i < 3; i++) deadAllowed.push((await quotas.check([perUser, global], deadUser)).allowed);
    expect(deadAllowed).toEqual([true, true, false]);
    for (let i = 0; i < 3; i++) expect((await quotas.check([perUser, global], liveUser)).allowed).toBe(true);
    expect(await used(`kg:q:{u:${liveUser.user}}:${perUser.name}:r`)).toBe(3);
    expect(await used(`kg:q:{g}:${global.name}:r`)).toBe(5);
    expect(await quotas.peek([perUser, global], deadUser)).toEqual([
      { limit: perUser.name, kind: "requests", quota: 2, remaining: 0, resetS: 60 },
      { limit: global.name, kind: "requests", quota: 100, remaining: 95, resetS: 60 },
    ]);
    expect(await metricValue(metrics.storeDegraded)).toBe(1);
  });

  it("a rejection by the local share gives back what the live group took", async () => {
    const { quotas, metrics } = harness(redis, { replicas: 2 });
    const perUser = limit({ name: unique("au"), rate: "2/1m", concurrent: 10 });
    const global = limit({ name: unique("ag"), per: "global", rate: "100/1m", concurrent: 10 });
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push(await quotas.check([perUser, global], deadUser));
    expect(decisions.map((d) => d.allowed)).toEqual([true, false, false]);
    expect(decisions[1]).toMatchObject({ allowed: false, violated: [perUser.name] });
    // The 429 reports the local share that rejected it.
    expect(decisions[1]!.headers["RateLimit-Policy"]).toBe(`"${perUser.name}";q=1;w=60`);
    expect(await used(`kg:q:{g}:${global.name}:r`)).toBe(1);
    expect(await redis.zcard(`kg:q:{g}:${global.name}:c`)).toBe(1);
    expect(await metricValue(metrics.rejections, { limit: perUser.name, kind: "requests" })).toBe(2);
  });

  it("a rejection by a live group takes nothing from the local share", async () => {
    const { quotas } = harness(redis, { replicas: 2 });
    const perUser = limit({ name: unique("ru"), rate: "100/1m" });
    const global = limit({ name: unique("rg"), per: "global", rate: "2/1m" });
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push(await quotas.check([perUser, global], deadUser));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(decisions[2]).toMatchObject({ allowed: false, violated: [global.name] });
    expect(await used(`kg:q:{g}:${global.name}:r`)).toBe(2);
    expect((await quotas.peek([perUser], deadUser))[0]).toMatchObject({ quota: 50, remaining: 48 });
  });

  it("deny on a dead group: a 503, and nothing stays taken in the live groups", async () => {
    const { quotas } = harness(redis);
    const strict = limit({ name: unique("du"), rate: "100/1m", onStoreFailure: "deny" });
    const global = limit({
      name: unique("dg"),
      per: "global",
      rate: "100/1m",
      tokens: "1000/1m",
      concurrent: 5,
    });
    for (let i = 0; i < 2; i++) {
      const err = await quotas.check([strict, global], deadUser, 300).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({ status: 503, slug: "store-unavailable" });
    }
    expect(await used(`kg:q:{g}:${global.name}:r`)).toBe(0);
    expect(await used(`kg:q:{g}:${global.name}:t`)).toBe(0);
    expect(await redis.zcard(`kg:q:{g}:${global.name}:c`)).toBe(0);
    // The same limits for a user on a live master pass and are counted in Redis.
    expect((await quotas.check([strict, global], liveUser, 300)).allowed).toBe(true);
    expect(await used(`kg:q:{u:${liveUser.user}}:${strict.name}:r`)).toBe(1);
    expect(await used(`kg:q:{g}:${global.name}:t`)).toBe(300);
  });

  it("allow on a dead group: the limit is skipped, the live group still counts", async () => {
    const { quotas } = harness(redis);
    const lenient = limit({ name: unique("lu"), rate: "1/1m", onStoreFailure: "allow" });
    const global = limit({ name: unique("lg"), per: "global", rate: "100/1m" });
    for (let i = 0; i < 3; i++) {
      expect(await quotas.check([lenient, global], deadUser)).toMatchObject({
        allowed: true,
        headers: { "RateLimit-Policy": `"${global.name}";q=100;w=60` },
      });
    }
    expect(await used(`kg:q:{g}:${global.name}:r`)).toBe(3);
  });

  it("a ticket holding counters in both stores settles and releases each where it was taken", async () => {
    const { quotas } = harness(redis, { replicas: 2 });
    const perUser = limit({ name: unique("tu"), tokens: "1000/1m", concurrent: 1 });
    const global = limit({ name: unique("tg"), per: "global", tokens: "5000/1m", concurrent: 5 });
    const first = await quotas.check([perUser, global], deadUser, 400);
    if (!first.allowed) throw new Error("expected pass");
    expect(await used(`kg:q:{g}:${global.name}:t`)).toBe(400);
    await quotas.renew(first.ticket);
    await quotas.settle(first.ticket, 150);
    expect(await used(`kg:q:{g}:${global.name}:t`)).toBe(150);
    expect((await quotas.peek([perUser], deadUser))[0]).toMatchObject({
      kind: "tokens",
      quota: 500,
      remaining: 350,
    });
    // The local lease (share 1) is held: a second request is rejected and gives back its global units.
    expect(await quotas.check([perUser, global], deadUser, 10)).toMatchObject({
      allowed: false,
      violated: [perUser.name],
    });
    expect(await redis.zcard(`kg:q:{g}:${global.name}:c`)).toBe(1);
    expect(await used(`kg:q:{g}:${global.name}:t`)).toBe(150);
    await quotas.release(first.ticket);
    expect(await redis.zcard(`kg:q:{g}:${global.name}:c`)).toBe(0);
    expect((await quotas.check([perUser, global], deadUser, 10)).allowed).toBe(true);
  });

  it("a dead master is skipped after one failed call instead of being retried per request", async () => {
    const metrics = createMetrics();
    const health = createNodeHealth({ metrics, logger: pino({ level: "silent" }), probeEveryMs: 60_000 });
    const store = createRedisStore(redis, health);
    const counter = (tag: string): Counter => ({
      key: `kg:q:${tag}:${unique("sc")}:r`,
      tag,
      kind: "r",
      limit: "sc",
      quota: 10,
      windowMs: 60_000,
      cost: 1,
      enforce: true,
    });
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++)
      errors.push(await store.take([counter(`{u:${deadUser.user}}`)], "l").catch((e) => e));
    for (const err of errors) expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(await metricValue(metrics.storeErrors, { store: "quota", op: "check" })).toBe(1);
    expect(((errors[2] as Error).cause as Error).message).toMatch(/^master 127\.0\.0\.1:\d+ is down$/);
    expect((await store.take([counter("{g}")], "l")).allowed).toBe(true);
    expect(await metricValue(metrics.storeDegraded)).toBe(1);
  });
});

// Last: it brings the dead master back.
describe("when the dead master comes back", () => {
  it("shared counting resumes on its slots within 5 s; ping and the gauge return to ok", async () => {
    const { quotas, metrics } = harness(redis, { replicas: 2 });
    const perUser = limit({ name: unique("back"), rate: "100/1m" });
    expect((await quotas.check([perUser], deadUser)).allowed).toBe(true);
    // Restarted empty, with its cluster config file: same node id, same slots.
    await cluster.nodes[dead]!.start();
    const key = `kg:q:{u:${deadUser.user}}:${perUser.name}:r`;
    await until(
      async () => {
        await quotas.check([perUser], deadUser);
        return (await used(key).catch(() => 0)) > 0;
      },
      5_000,
      "a check counted on the restarted master",
    );
    await until(async () => (await quotas.ping()) === "ok", 5_000, "ping ok");
    const before = await used(key);
    expect((await quotas.check([perUser], deadUser)).allowed).toBe(true);
    expect(await used(key)).toBe(before + 1);
    expect(await metricValue(metrics.storeDegraded)).toBe(0);
  });
});
