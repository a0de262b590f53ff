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

/** A counter of these tests: keyed by tag, limit and kind; a 1-minute window; enforced. */
function counter(tag: string, limit: string, kind: "r" | "t" | "c", quota: number, cost: number) {
  return {
    key: `kg:q:${tag}:${limit}:${kind}`,
    tag,
    kind,
    limit,
    quota,
    windowMs: 60_000,
    cost,
    enforce: true,
  } as const;
}

/** Script calls Redis has run so far (all scripts). */
async function scriptCalls(): Promise<number> {
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(await inspector.info("commandstats"))?.[1] ?? 0);
}

describe("redis store specifics", () => {
  it("never takes a counter below zero", async () => {
    const store = createRedisStore(redis);
    const c = counter("{g}", "floor", "t", 100, 30);
    const { states } = await store.take([c], "x");
    await inspector.hset(c.key, "n", "10");
    await store.adjust([{ key: c.key, tag: c.tag, start: states[0]!.start, delta: -30 }]);
    expect(await inspector.hget(c.key, "n")).toBe("0");
  });

  it("settlements made in the same turn share one script call, each applied to its own counter", async () => {
    const store = createRedisStore(redis);
    const batched = (user: string) => counter(`{u:${user}}`, "batch", "t", 1_000, 100);
    const users = ["ann", "bob", "cy"];
    const taken = await Promise.all(users.map((u) => store.take([batched(u)], `${u}.1`)));
    const before = await scriptCalls();
    await Promise.all(
      users.map((u, i) =>
        store.adjust([
          {
            key: batched(u).key,
            tag: batched(u).tag,
            start: taken[i]!.states[0]!.start,
            delta: -10 * (i + 1),
          },
        ]),
      ),
    );
    expect((await scriptCalls()) - before).toBe(1);
    expect(await Promise.all(users.map((u) => inspector.hget(batched(u).key, "n")))).toEqual([
      "90",
      "80",
      "70",
    ]);
  });

  it("what ends two calls in one turn (settlements and lease releases) is one script call", async () => {
    const store = createRedisStore(redis);
    const tokens = counter("{u:end}", "end", "t", 1_000, 100);
    const lease = counter("{u:end}", "end", "c", 5, 1);
    const first = await store.take([tokens, lease], "call.1");
    const second = await store.take([tokens, lease], "call.2");
    expect(await inspector.zrange(lease.key, "0", "-1")).toEqual(["call.1", "call.2"]);
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
    const c = counter("{u:pipe}", "pipe", "r", 3, 1);
    // A second, tighter limit on the third request only: it must not take the first counter's unit.
    const tight = counter("{u:pipe}", "tight", "r", 0, 1);
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
    const c = counter("{g}", "crash", "c", 1, 1);
    const [seconds] = await inspector.time();
    await inspector.zadd(c.key, Number(seconds) * 1000 - 1, "crashed-instance.1");
    expect((await store.take([c], "live.1")).allowed).toBe(true);
    expect(await inspector.zrange(c.key, "0", "-1")).toEqual(["live.1"]);
    const w = counter("{g}", "ttl", "r", 1, 1);
    await store.take([w], "x");
    const ttl = await inspector.pttl(w.key);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
