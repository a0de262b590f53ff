import type { Cluster, Redis } from "ioredis";
import { StoreUnavailableError } from "../errors.ts";
import { VaultError } from "./errors.ts";
import { parseRecord, type VaultEntry, type VaultRecord, type VaultStore } from "./store.ts";

/** A single Redis or a Cluster; the composition root owns it (and closes it). */
export type RedisConnection = Redis | Cluster;

export interface RedisStoreOptions {
  /** Key prefix; one hash per user at `<prefix>{<encodeURIComponent(user)>}`. Default `kg:v:`. */
  prefix?: string;
  /** Keys fetched per SCAN step during rotation. Default 200. */
  scanCount?: number;
}

// Keeps the stored created_at in the same step as the write, so two racing
// puts cannot both decide they are the first. A corrupt old record is replaced.
const PUT = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
local created = ARGV[4]
if old then
  local ok, rec = pcall(cjson.decode, old)
  if ok and type(rec) == 'table' and type(rec.created_at) == 'string' then created = rec.created_at end
end
local value = cjson.encode({ciphertext = ARGV[2], hint = ARGV[3], created_at = created, updated_at = ARGV[5]})
redis.call('HSET', KEYS[1], ARGV[1], value)
return {value, old and 0 or 1}`;

const COMPARE_AND_SWAP = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
local ok, rec = pcall(cjson.decode, old)
if not ok or type(rec) ~= 'table' or rec.ciphertext ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;

/**
 * Vault records in Redis: one hash per user, field = provider, value = JSON
 * record. The user id is the key's hash tag, so a user's hash lives on one
 * Cluster slot; rotation SCANs every master.
 *
 * @example const store = createRedisStore(new Redis(process.env.REDIS_URL!))
 */
export function createRedisStore(connection: RedisConnection, options: RedisStoreOptions = {}): VaultStore {
  const prefix = options.prefix ?? "kg:v:";
  const scanCount = options.scanCount ?? 200;
  if (!Number.isInteger(scanCount) || scanCount < 1) throw new Error("scanCount must be a positive integer");
  const keyOf = (user: string) => `${prefix}{${encodeURIComponent(user)}}`;
  const where = (user: string, provider: string) => `vault record of user "${user}", provider "${provider}"`;
  // The record count and "has ever held records" marker, for detecting a vault emptied by data loss.
  // A separate slot from the user hashes, so not atomic with the write: a crash in between skews the
  // count by one, which `stats()` consumers tolerate (they look for zero).
  const meta = `${prefix}meta`;
  const countRecords = async (delta: number, since?: string) => {
    await connection.hincrby(meta, "records", delta);
    if (since !== undefined) await connection.hsetnx(meta, "since", since);
  };

  async function call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof VaultError) throw error;
      throw new StoreUnavailableError("vault store (redis)", { cause: error });
    }
  }

  async function* userKeys(): AsyncIterable<string> {
    const nodes = connection.isCluster ? (connection as Cluster).nodes("master") : [connection as Redis];
    for (const node of nodes) {
      let cursor = "0";
      do {
        const [next, keys] = await call(() => node.scan(cursor, "MATCH", `${prefix}{*}`, "COUNT", scanCount));
        cursor = next;
        yield* keys;
      } while (cursor !== "0");
    }
  }

  return {
    get: (user, provider) =>
      call(async () => {
        const json = await connection.hget(keyOf(user), provider);
        return json === null ? undefined : parseRecord(json, where(user, provider));
      }),
    put: (user, provider, record) =>
      call(async () => {
        const { ciphertext, hint, created_at, updated_at } = record;
        const args = [provider, ciphertext, hint, created_at, updated_at];
        const [json, added] = (await connection.eval(PUT, 1, keyOf(user), ...args)) as [string, number];
        if (added === 1) await countRecords(1, created_at);
        return parseRecord(json, where(user, provider));
      }),
    delete: (user, provider) =>
      call(async () => {
        const removed = (await connection.hdel(keyOf(user), provider)) === 1;
        if (removed) await countRecords(-1);
        return removed;
      }),
    stats: () =>
      call(async () => {
        const [records, since] = await connection.hmget(meta, "records", "since");
        return { records: Number(records ?? 0), heldRecords: since !== null };
      }),
    list: (user) =>
      call(async () => {
        const fields = await connection.hgetall(keyOf(user));
        return new Map(Object.entries(fields).map(([p, json]) => [p, parseRecord(json, where(user, p))]));
      }),
    async *entries(): AsyncIterable<VaultEntry> {
      for await (const key of userKeys()) {
        const user = userOf(key, prefix);
        if (user === undefined) continue;
        const fields = await call(() => connection.hgetall(key));
        for (const [provider, json] of Object.entries(fields)) {
          yield { user, provider, record: parseRecord(json, where(user, provider)) };
        }
      }
    },
    compareAndSwap: (user, provider, expectedCiphertext, record: VaultRecord) =>
      call(async () => {
        const args = [provider, expectedCiphertext, JSON.stringify(record)];
        return (await connection.eval(COMPARE_AND_SWAP, 1, keyOf(user), ...args)) === 1;
      }),
  };
}

/** The user id a hash key encodes, or undefined for a key this store did not write. */
function userOf(key: string, prefix: string): string | undefined {
  if (!key.startsWith(`${prefix}{`) || !key.endsWith("}")) return undefined;
  try {
    return decodeURIComponent(key.slice(prefix.length + 1, -1));
  } catch {
    return undefined;
  }
}
