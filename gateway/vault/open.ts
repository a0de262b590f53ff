import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";
import type { RedisConnection } from "../store/redis.ts";
import { createRedisChangeFeed } from "./change-feed.ts";
import { createFileStore } from "./file-store.ts";
import { monitorVaultRecords } from "./records-monitor.ts";
import { createRedisStore } from "./redis-store.ts";
import { resolveKeyring } from "./resolve-keyring.ts";
import { createVault, type Vault } from "./vault.ts";

/** With change announcements the TTL only bounds a missed announcement; without (file store) it bounds CLI edits. */
const SHARED_CACHE_TTL_MS = 60_000;

export interface OpenVaultOptions {
  env: NodeJS.ProcessEnv;
  /** Embedded mode's vault file and dev master key live here. */
  dataDir: string;
  /** The shared connection; undefined = embedded mode (file store). */
  redis?: RedisConnection | undefined;
  /** `NODE_ENV=production`: a missing master key is a startup error. */
  production?: boolean;
  metrics: Pick<Metrics, "vaultOps" | "storeErrors" | "vaultRecords">;
  /** Receives the empty-vault alarm line (shared mode). */
  logger: Logger;
}

/**
 * The server's vault: keyring from the environment (or the dev key file),
 * Redis store when a connection is given, else the file store. Throws one
 * clear startup message when master keys are required but missing or bad.
 * `warning` (dev key in use) is for the caller to log; it names no secret.
 *
 * @example const { vault, warning } = await openVault({ env, dataDir, redis, production, metrics })
 */
export async function openVault(
  options: OpenVaultOptions,
): Promise<{ vault: Vault; warning?: string; close: () => void }> {
  const { env, dataDir, redis, metrics } = options;
  const { keyring, warning } = await resolveKeyring(env, dataDir, {
    redisConfigured: redis !== undefined || Boolean(env.REDIS_URL || env.REDIS_CLUSTER_NODES),
    production: options.production ?? env.NODE_ENV === "production",
  });
  if (redis === undefined) {
    const vault = createVault({ store: createFileStore(dataDir), keyring, metrics });
    return { vault, close: () => {}, ...(warning === undefined ? {} : { warning }) };
  }
  // Shared mode: other instances announce key changes, so the ciphertext cache may live longer.
  const changes = createRedisChangeFeed(redis);
  const store = createRedisStore(redis);
  const monitor =
    store.stats && (await monitorVaultRecords({ stats: store.stats, metrics, logger: options.logger }));
  const vault = createVault({
    store,
    keyring,
    changes,
    cache: { ttlMs: SHARED_CACHE_TTL_MS },
    metrics,
  });
  const close = () => {
    changes.close();
    monitor?.close();
  };
  return { vault, close, ...(warning === undefined ? {} : { warning }) };
}
