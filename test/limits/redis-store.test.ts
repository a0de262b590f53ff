import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore } from "../../gateway/limits/redis-store.ts";
import { createRedisConnection, whenReady } from "../../gateway/store/redis.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { conformance } from "./conformance.ts";

let server: RedisServer;
let redis: Redis;
let inspector: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = createRedisConnection({ REDIS_URL: server.url }) as Redis;
  inspector = new Redis(server.url);
  await whenReady(redis, 5_000);
});
afterAll(async () => {
  redis.disconnect();
  inspector.disconnect();
  await server.stop();
});

conformance("redis store", { redis: () => redis, stored: (key) => inspector.hgetall(key) });

describe("redis store specifics", () => {
  it("never takes a counter below zero", async () => {
    const store = createRedisStore(redis);
    const c = {
      key: "kg:q:{g}:floor:t",
      tag: "{g}",
      kind: "t",
      limit: "floor",
      quota: 100,
      windowMs: 60_000,
      cost: 30,
      enforce: true,
    } as const;
    const { states } = await store.take([c], "x");
    await inspector.hset(c.key, "n", "10");
    await store.adjust([{ key: c.key, tag: c.tag, start: states[0]!.start, delta: -30 }]);
    expect(await inspector.hget(c.key, "n")).toBe("0");
  });

  it("settlements made in the same turn share one script call, each applied to its own counter", async () => {
    const store = createRedisStore(redis);
    const counter = (user: string) =>
      ({
        key: `kg:q:{u:${user}}:batch:t`,
        tag: `{u:${user}}`,
        kind: "t",
        limit: "batch",
        quota: 1_000,
        windowMs: 60_000,
        cost: 100,
        enforce: true,
      }) as const;
    const users = ["ann", "bob", "cy"];
    const taken = await Promise.all(users.map((u) => store.take([counter(u)], `${u}.1`)));
    const scriptCalls = async () => {
      const stats = await inspector.info("commandstats");
      return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    };
    const before = await scriptCalls();
    await Promise.all(
      users.map((u, i) =>
        store.adjust([
          {
            key: counter(u).key,
            tag: counter(u).tag,
            start: taken[i]!.states[0]!.start,
            delta: -10 * (i + 1),
          },
        ]),
      ),
    );
    expect((await scriptCalls()) - before).toBe(1);
    expect(await Promise.all(users.map((u) => inspector.hget(counter(u).key, "n")))).toEqual([
      "90",
      "80",
      "70",
    ]);
  });

  it("what ends two calls in one turn (settlements and lease releases) is one script call", async () => {
    const store = createRedisStore(redis);
    const tokens = {
      key: "kg:q:{u:end}:end:t",
      tag: "{u:end}",
      kind: "t",
      limit: "end",
      quota: 1_000,
      windowMs: 60_000,
      cost: 100,
      enforce: true,
    } as const;
    const lease = { ...tokens, key: "kg:q:{u:end}:end:c", kind: "c", quota: 5, cost: 1 } as const;
    const first = await store.take([tokens, lease], "call.1");
    const second = await store.take([tokens, lease], "call.2");
    expect(await inspector.zrange(lease.key, "0", "-1")).toEqual(["call.1", "call.2"]);
    const scriptCalls = async () =>
      Number(/cmdstat_evalsha:calls=(\d+)/.exec(await inspector.info("commandstats"))?.[1] ?? 0);
    const before = await scriptCalls();
    await Promise.all([
      store.adjust([{ key: tokens.key, tag: tokens.tag, start: first.states[0]!.start, delta: -60 }]),
      store.release([lease], "call.1"),
      store.adjust([{ key: tokens.key, tag: tokens.tag, start: second.states[0]!.start, delta: -30 }]),
      store.release([lease], "call.2"),
    ]);
    expect((await scriptCalls()) - before).toBe(1);
    expect(await inspector.hget(tokens.key, "n")).toBe("110");
    expect(await inspector.zcard(lease.key)).toBe(0);
  });

  it("checks made in the same turn are one script call, each request still all-or-nothing as if alone", async () => {
    const store = createRedisStore(redis);
    const c = {
      key: "kg:q:{u:pipe}:pipe:r",
      tag: "{u:pipe}",
      kind: "r",
      limit: "pipe",
      quota: 3,
      windowMs: 60_000,
      cost: 1,
      enforce: true,
    } as const;
    // A second, tighter limit on the fourth request only: it must not take the first counter's unit.
    const tight = { ...c, key: "kg:q:{u:pipe}:tight:r", limit: "tight", quota: 0 } as const;
    const scriptCalls = async () =>
      Number(/cmdstat_evalsha:calls=(\d+)/.exec(await inspector.info("commandstats"))?.[1] ?? 0);
    const before = await scriptCalls();
    const results = await Promise.all([
      store.take([c], "a.1"),
      store.take([c], "a.2"),
      store.take([c, tight], "a.3"),
      store.take([c], "a.4"),
      store.take([c], "a.5"),
    ]);
    expect((await scriptCalls()) - before).toBe(1);
    expect(results.map((r) => r.allowed)).toEqual([true, true, false, true, false]);
    expect(results.map((r) => r.states[0]!.used)).toEqual([1, 2, 2, 3, 3]);
    expect(await inspector.hget(c.key, "n")).toBe("3");
    expect(await inspector.exists(tight.key)).toBe(0);
  });

  it("ignores a crashed instance's expired lease and keeps keys bounded by their window", async () => {
    const store = createRedisStore(redis);
    const c = {
      key: "kg:q:{g}:crash:c",
      tag: "{g}",
      kind: "c",
      limit: "crash",
      quota: 1,
      windowMs: 60_000,
      cost: 1,
      enforce: true,
    } as const;
    const [seconds] = await inspector.time();
    await inspector.zadd(c.key, Number(seconds) * 1000 - 1, "crashed-instance.1");
    expect((await store.take([c], "live.1")).allowed).toBe(true);
    expect(await inspector.zrange(c.key, "0", "-1")).toEqual(["live.1"]);
    const w = { ...c, key: "kg:q:{g}:ttl:r", kind: "r" } as const;
    await store.take([w], "x");
    const ttl = await inspector.pttl(w.key);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
