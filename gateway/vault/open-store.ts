import { StoreUnavailableError } from "../errors.ts";
import { createRedisConnection, type RedisConnection, whenReady } from "../store/redis.ts";
import { createFileStore } from "./file-store.ts";
import { createRedisStore } from "./redis-store.ts";
import { dataDirFrom } from "./resolve-keyring.ts";
import type { VaultStore } from "./store.ts";

export interface OpenedVaultStore {
  store: VaultStore;
  /** `redis` (REDIS_URL or REDIS_CLUSTER_NODES) or `file` (embedded mode). */
  kind: "redis" | "file";
  /** Closes a connection this function opened; a passed-in connection is left open. */
  close(): Promise<void>;
}

/**
 * The vault store the environment describes (SPEC §2), for one-shot commands:
 * Redis when `REDIS_URL` or `REDIS_CLUSTER_NODES` is set (reusing `connection`
 * when the caller has one), else `vault.json` in `KEYGATE_DATA_DIR`.
 * Waits up to `readyTimeoutMs` for a connection it opens.
 *
 * @example const { store, close } = await openVaultStore(process.env)
 */
export async function openVaultStore(
  env: NodeJS.ProcessEnv,
  connection?: RedisConnection,
  readyTimeoutMs = 5_000,
): Promise<OpenedVaultStore> {
  if (connection !== undefined) {
    return { store: createRedisStore(connection), kind: "redis", close: async () => {} };
  }
  const opened = createRedisConnection(env);
  if (opened === undefined) {
    return { store: createFileStore(dataDirFrom(env)), kind: "file", close: async () => {} };
  }
  try {
    await whenReady(opened, readyTimeoutMs);
  } catch (error) {
    opened.disconnect();
    throw new StoreUnavailableError(`Redis (${env.REDIS_URL ? "REDIS_URL" : "REDIS_CLUSTER_NODES"})`, {
      cause: error,
    });
  }
  return { store: createRedisStore(opened), kind: "redis", close: async () => opened.disconnect() };
}
