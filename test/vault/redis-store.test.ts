import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../../gateway/errors.ts";
import { VaultError } from "../../gateway/vault/errors.ts";
import { createRedisStore } from "../../gateway/vault/redis-store.ts";
import { type RedisServer, startRedis, startRedisCluster } from "../helpers/redis.ts";
import { describeVaultStore, record } from "./store-conformance.ts";

describeVaultStore("redis", async () => {
  const server = await startRedis();
  const redis = new Redis(server.url);
  return {
    fresh: async () => {
      await redis.flushall();
      return createRedisStore(redis, { scanCount: 7 });
    },
    close: async () => {
      redis.disconnect();
      await server.stop();
    },
  };
});

describeVaultStore("redis cluster", async () => {
  const cluster = await startRedisCluster(3);
  const client = new Cluster(
    cluster.seeds.split(",").map((s) => ({ host: "127.0.0.1", port: Number(s.split(":")[1]) })),
  );
  return {
    fresh: async () => {
      await Promise.all(client.nodes("master").map((n) => n.flushall()));
      return createRedisStore(client, { scanCount: 5 });
    },
    close: async () => {
      client.disconnect();
      await cluster.stop();
    },
  };
});

describe("redis vault store specifics", () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    redis.on("error", () => {}); // outages are asserted through the store
    await new Promise((resolve) => redis.once("ready", resolve));
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it("keeps one hash per user, tagged by the encoded user id, holding JSON records", async () => {
    const store = createRedisStore(redis);
    const r = record("layout");
    await store.put("team:a{1}", "openai", r);
    expect((await server.cli("keys", "*")).split("\n").sort()).toEqual([
      "kg:v:meta",
      "kg:v:{team%3Aa%7B1%7D}",
    ]);
    expect(await server.cli("hget", "kg:v:meta", "records")).toBe("1");
    expect(JSON.parse(await server.cli("hget", "kg:v:{team%3Aa%7B1%7D}", "openai"))).toEqual(r);
  });

  it("fails a corrupt record with VaultError malformed, naming user and provider", async () => {
    const store = createRedisStore(redis);
    await server.cli("hset", "kg:v:{mallory}", "openai", "{not json");
    const error = await store.get("mallory", "openai").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).code).toBe("malformed");
    expect((error as VaultError).message).toBe(
      'vault record of user "mallory", provider "openai": stored record is not JSON',
    );
  });

  it("turns a Redis outage into StoreUnavailableError on every operation", async () => {
    const store = createRedisStore(redis);
    await server.kill();
    try {
      const ops = [
        store.get("alice", "openai"),
        store.put("alice", "openai", record("down")),
        store.delete("alice", "openai"),
        store.list("alice"),
        store.compareAndSwap("alice", "openai", "x", record("down")),
        (async () => {
          for await (const _ of store.entries());
        })(),
      ];
      for (const result of await Promise.allSettled(ops)) {
        expect(result.status).toBe("rejected");
        const reason = (result as PromiseRejectedResult).reason as Error;
        expect(reason).toBeInstanceOf(StoreUnavailableError);
        expect(reason.message).toBe("vault store (redis) is unavailable");
      }
    } finally {
      await server.start();
    }
  });
});
