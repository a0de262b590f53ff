/**
 * Redis Cluster: one script per hash tag, run in parallel; a request rejected
 * by one slot's group gets back what the other groups took.
 */
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisConnection, whenReady } from "../../gateway/store/redis.ts";
import { type RedisCluster, startRedisCluster } from "../helpers/redis.ts";
import { harness, limit, metricValue } from "./fixtures.ts";

describe("quota counting on a Redis Cluster", () => {
  let cluster: RedisCluster;
  let redis: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    redis = createRedisConnection({ REDIS_CLUSTER_NODES: cluster.seeds }) as Cluster;
    await whenReady(redis, 10_000);
  });
  afterAll(async () => {
    redis.disconnect();
    await cluster.stop();
  });

  const slot = async (key: string) => Number(await cluster.nodes[0]!.cli("cluster", "keyslot", key));
  const used = async (key: string) => redis.hget(key, "n");

  it("keeps one subject's counters in one slot and different subjects apart", async () => {
    expect(await slot("kg:q:{u:alice}:a:r")).toBe(await slot("kg:q:{u:alice}:b:t"));
    expect(await slot("kg:q:{u:alice}:a:r")).not.toBe(await slot("kg:q:{g}:a:r"));
  });

  it("counts exactly across a user limit and a global limit in different slots", async () => {
    const { quotas } = harness(redis);
    const perUser = limit({ name: "c-user", rate: "30/1m" });
    const global = limit({ name: "c-global", per: "global", rate: "100/1m" });
    const who = { user: "alice", tier: undefined, ip: "192.0.2.1" };
    const decisions = await Promise.all(
      Array.from({ length: 100 }, () => quotas.check([perUser, global], who)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(30);
    expect(await used("kg:q:{u:alice}:c-user:r")).toBe("30");
    expect(await used("kg:q:{g}:c-global:r")).toBe("30");
  });

  it("gives back what the passing group took when the other group rejects", async () => {
    const { quotas, metrics } = harness(redis);
    const perUser = limit({ name: "g-user", rate: "50/1m", concurrent: 100 });
    const global = limit({ name: "g-global", per: "global", rate: "20/1m" });
    const who = { user: "bob", tier: undefined, ip: "192.0.2.1" };
    const decisions = await Promise.all(
      Array.from({ length: 40 }, () => quotas.check([perUser, global], who)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
    expect(await used("kg:q:{u:bob}:g-user:r")).toBe("20");
    expect(await used("kg:q:{g}:g-global:r")).toBe("20");
    expect(await redis.zcard("kg:q:{u:bob}:g-user:c")).toBe(20);
    expect(await metricValue(metrics.rejections, { limit: "g-global", kind: "requests" })).toBe(20);
    const denied = decisions.find((d) => !d.allowed);
    expect(denied).toMatchObject({ allowed: false, violated: ["g-global"] });
    expect(denied?.headers["RateLimit"]).toBe('"g-global";r=0;t=60');
  });

  it("encodes ids so braces cannot break the hash tag", async () => {
    const { quotas } = harness(redis);
    const l = limit({ name: "braces", rate: "5/1m", tokens: "100/1m" });
    const d = await quotas.check([l], { user: "x}{y", tier: undefined, ip: "192.0.2.1" }, 10);
    expect(d.allowed).toBe(true);
    expect(await used("kg:q:{u:x%7D%7By}:braces:r")).toBe("1");
    expect(await used("kg:q:{u:x%7D%7By}:braces:t")).toBe("10");
  });

  it("settles token reservations in each slot's own window", async () => {
    const { quotas } = harness(redis);
    const perUser = limit({ name: "t-user", tokens: "1000/1m" });
    const global = limit({ name: "t-global", per: "global", tokens: "5000/1m" });
    const who = { user: "carol", tier: undefined, ip: "192.0.2.1" };
    const d = await quotas.check([perUser, global], who, 400);
    if (!d.allowed) throw new Error("expected pass");
    await quotas.settle(d.ticket, 150);
    expect(await used("kg:q:{u:carol}:t-user:t")).toBe("150");
    expect(await used("kg:q:{g}:t-global:t")).toBe("150");
  });

  // Last: it leaves one master dead.
  it("a dead master: its slots' limits follow on_store_failure, never a 429 from the outage", async () => {
    const { quotas, metrics } = harness(redis);
    const perUser = limit({ name: "o-user", rate: "100/1m" });
    const global = limit({ name: "o-global", per: "global", rate: "2/1m", onStoreFailure: "allow" });
    const who = { user: "dave", tier: undefined, ip: "192.0.2.1" };
    expect((await quotas.check([perUser, global], who)).allowed).toBe(true);
    const owner = redis.slots[await slot("kg:q:{g}:o-global:r")]![0]!;
    await cluster.nodes.find((n) => owner.endsWith(`:${n.port}`))!.kill();
    for (let i = 0; i < 4; i++) expect((await quotas.check([perUser, global], who)).allowed).toBe(true);
    expect(await quotas.ping()).toBe("degraded");
    expect(await metricValue(metrics.storeDegraded)).toBe(1);
  });
});
