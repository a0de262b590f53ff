import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisConnection, whenReady } from "../../gateway/store/redis.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";

describe("createRedisConnection", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server.stop());

  it("returns undefined without REDIS_URL or REDIS_CLUSTER_NODES (embedded mode)", () => {
    expect(createRedisConnection({})).toBeUndefined();
    expect(createRedisConnection({ REDIS_URL: "  ", REDIS_CLUSTER_NODES: "" })).toBeUndefined();
  });

  it("refuses both at once, a non-redis URL and malformed seeds", () => {
    expect(() => createRedisConnection({ REDIS_URL: "redis://a:1", REDIS_CLUSTER_NODES: "b:2" })).toThrow(
      "set either REDIS_URL or REDIS_CLUSTER_NODES, not both",
    );
    expect(() => createRedisConnection({ REDIS_URL: "http://127.0.0.1:6379" })).toThrow(
      "REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379",
    );
    expect(() => createRedisConnection({ REDIS_CLUSTER_NODES: "10.0.0.1:6379,10.0.0.2" })).toThrow(
      'REDIS_CLUSTER_NODES: "10.0.0.2" is not host:port (expected e.g. 10.0.0.5:6379,10.0.0.6:6379)',
    );
    expect(() => createRedisConnection({ REDIS_CLUSTER_NODES: "10.0.0.1:70000" })).toThrow(
      'REDIS_CLUSTER_NODES: "10.0.0.1:70000" is not host:port',
    );
  });

  it("connects with fail-fast options: no offline queue, 250 ms command timeout", async () => {
    const redis = createRedisConnection({ REDIS_URL: server.url });
    expect(redis).toBeInstanceOf(Redis);
    await whenReady(redis!, 5_000);
    expect(await redis!.ping()).toBe("PONG");
    expect((redis as Redis).options).toMatchObject({
      enableOfflineQueue: false,
      commandTimeout: 250,
      maxRetriesPerRequest: 0,
    });
    redis!.disconnect();
  });

  it("fails commands at once while disconnected instead of queueing them", async () => {
    const redis = createRedisConnection({ REDIS_URL: server.url })!;
    await whenReady(redis, 5_000);
    await server.kill();
    await expect(redis.ping()).rejects.toThrow();
    await server.start();
    redis.disconnect();
  });

  it("builds a Cluster client from seeds, with TLS on request", () => {
    const cluster = createRedisConnection({
      REDIS_CLUSTER_NODES: "127.0.0.1:1, [::1]:2",
      REDIS_CLUSTER_TLS: "1",
    });
    expect(cluster).toBeInstanceOf(Cluster);
    expect((cluster as Cluster).options.redisOptions).toMatchObject({ tls: {}, enableOfflineQueue: false });
    cluster!.disconnect();
  });
});
