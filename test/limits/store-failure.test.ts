/** A real redis-server killed mid-test: each limit's on_store_failure applies, never a 429 from the outage itself. */
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GatewayError } from "../../gateway/errors.ts";
import { createRedisConnection, whenReady } from "../../gateway/store/redis.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { harness, limit, metricValue, until } from "./fixtures.ts";

const alice = { user: "alice", tier: undefined, ip: "192.0.2.1" };

describe("quota store outage", () => {
  let server: RedisServer;
  let redis: Redis;
  beforeEach(async () => {
    server = await startRedis();
    redis = createRedisConnection({ REDIS_URL: server.url }) as Redis;
    await whenReady(redis, 5_000);
  });
  afterEach(async () => {
    redis.disconnect();
    await server.stop();
  });

  it("local: each instance gets ceil(quota / replicas); a 429 only once that share is used up", async () => {
    const { quotas, metrics } = harness(redis, { replicas: 2 });
    const l = limit({ name: "user-requests", rate: "5/1m", onStoreFailure: "local" });
    expect((await quotas.check([l], alice)).allowed).toBe(true);
    await server.kill();
    const allowed = [];
    for (let i = 0; i < 4; i++) allowed.push((await quotas.check([l], alice)).allowed);
    expect(allowed).toEqual([true, true, true, false]);
    const denied = await quotas.check([l], alice);
    expect(denied).toMatchObject({ allowed: false, violated: ["user-requests"] });
    expect(denied.headers["RateLimit-Policy"]).toBe('"user-requests";q=3;w=60');
    expect(await quotas.ping()).toBe("degraded");
    expect(await metricValue(metrics.storeDegraded)).toBe(1);
    expect(await metricValue(metrics.storeErrors, { store: "quota", op: "check" })).toBe(1);
    expect(await quotas.peek([l], alice)).toEqual([
      { limit: "user-requests", kind: "requests", quota: 3, remaining: 0, resetS: 60 },
    ]);
  });

  it("allow: the limit is skipped while the store is down", async () => {
    const { quotas } = harness(redis);
    const l = limit({ name: "lenient", rate: "1/1m", onStoreFailure: "allow" });
    await server.kill();
    for (let i = 0; i < 5; i++)
      expect(await quotas.check([l], alice)).toMatchObject({ allowed: true, headers: {} });
  });

  it("deny: a 503 store-unavailable that consumes nothing from the other limits", async () => {
    const { quotas } = harness(redis);
    const strict = limit({ name: "strict", per: "global", rate: "100/1m", onStoreFailure: "deny" });
    const local = limit({ name: "local-one", rate: "2/1m" });
    await server.kill();
    const err = await quotas.check([local, strict], alice).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 503, slug: "store-unavailable", headers: { "Retry-After": "1" } });
    expect((err as GatewayError).detail).toBe(
      'The quota store is unreachable and limit "strict" does not allow requests without it. Retry in a few seconds.',
    );
    expect((await quotas.peek([local], alice))[0]!.remaining).toBe(2);
  });

  it("token reservations made locally settle locally", async () => {
    const { quotas } = harness(redis);
    const l = limit({ name: "tok", tokens: "1000/1m" });
    await server.kill();
    const d = await quotas.check([l], alice, 400);
    if (!d.allowed) throw new Error("expected pass");
    await quotas.settle(d.ticket, 100);
    expect((await quotas.peek([l], alice))[0]!.remaining).toBe(900);
  });

  it("settle, renew and release of a Redis-held ticket never throw while Redis is down; failures are counted", async () => {
    const { quotas, metrics } = harness(redis);
    const l = limit({ name: "held", tokens: "1000/1m", concurrent: 2 });
    const d = await quotas.check([l], alice, 100);
    if (!d.allowed) throw new Error("expected pass");
    await server.kill();
    await expect(quotas.renew(d.ticket)).resolves.toBeUndefined();
    await expect(quotas.settle(d.ticket, 50)).resolves.toBeUndefined();
    await expect(quotas.release(d.ticket)).resolves.toBeUndefined();
    for (const op of ["renew", "settle", "release"]) {
      expect(await metricValue(metrics.storeErrors, { store: "quota", op })).toBe(1);
    }
  });

  it("shared counting resumes within 5 s of Redis coming back; ping reports degraded then ok", async () => {
    const { quotas, metrics } = harness(redis);
    const l = limit({ name: "resume", rate: "100/1m" });
    await server.kill();
    expect((await quotas.check([l], alice)).allowed).toBe(true);
    expect(await quotas.ping()).toBe("degraded");
    await server.start();
    await until(
      async () => {
        await quotas.check([l], alice);
        return (await server.cli("hget", "kg:q:{u:alice}:resume:r", "n")) !== "";
      },
      5_000,
      "a check counted in Redis",
    );
    expect(await quotas.ping()).toBe("ok");
    expect(await metricValue(metrics.storeDegraded)).toBe(0);
  });
});
