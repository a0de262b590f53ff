import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../gateway/log/logger.ts";
import { createMetrics } from "../../gateway/metrics.ts";
import { openVault } from "../../gateway/vault/open.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { fakeApiKey, fakeMasterKey } from "./fake-keys.ts";

const deps = { metrics: createMetrics(), logger: createLogger({ level: "silent" }) };

describe("openVault (the server's wiring)", () => {
  let dir: string;
  let server: RedisServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "keygate-open-"));
    server = await startRedis();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await server.stop();
  });

  it("embedded mode: file store in the data dir, dev key with a warning", async () => {
    const dataDir = join(dir, "embedded");
    const { vault, warning } = await openVault({ env: {}, dataDir, ...deps });
    expect(warning).toContain("generated the dev master key");
    const apiKey = fakeApiKey();
    await vault.put("alice", "openai", apiKey);
    expect((await stat(join(dataDir, "vault.json"))).isFile()).toBe(true);
    const again = await openVault({ env: {}, dataDir, ...deps });
    expect(await again.vault.reveal("alice", "openai")).toBe(apiKey);
  });

  it("with a Redis connection: Redis store, and master keys required", async () => {
    const redis = new Redis(server.url);
    try {
      await expect(openVault({ env: {}, dataDir: join(dir, "r"), redis, ...deps })).rejects.toThrow(
        "KEYGATE_MASTER_KEYS is not set (required because Redis is configured)",
      );
      const env = { KEYGATE_MASTER_KEYS: fakeMasterKey("k1") };
      const { vault, warning, close } = await openVault({ env, dataDir: join(dir, "r"), redis, ...deps });
      expect(warning).toBeUndefined();
      await vault.put("alice", "openai", fakeApiKey());
      expect(await server.cli("hexists", "kg:v:{alice}", "openai")).toBe("1");
      close();
    } finally {
      redis.disconnect();
    }
  });

  it("production without master keys is a startup error", async () => {
    await expect(openVault({ env: {}, dataDir: join(dir, "p"), production: true, ...deps })).rejects.toThrow(
      "KEYGATE_MASTER_KEYS is not set (required because NODE_ENV=production)",
    );
  });
});
