import { StoreUnavailableError } from "../errors.ts";
import type { Metrics } from "../metrics.ts";
import type { ChangeFeed } from "./change-feed.ts";
import { createCipher } from "./cipher.ts";
import { VaultError } from "./errors.ts";
import { keyHint } from "./hint.ts";
import type { Keyring } from "./keyring.ts";
import { createRecordCache, type RecordCacheOptions } from "./record-cache.ts";
import { type RotateResult, rotateAll } from "./rotate.ts";
import type { VaultRecord, VaultStore } from "./store.ts";

/** What the key API and `keys list` show of a stored key. */
export interface KeyInfo {
  provider: string;
  hint: string;
  created_at: string;
  updated_at: string;
}

export interface Vault {
  /** Encrypts and stores; keeps `created_at` when replacing a key. */
  put(user: string, provider: string, apiKey: string): Promise<KeyInfo>;
  info(user: string, provider: string): Promise<KeyInfo | undefined>;
  /** Sorted by provider. */
  list(user: string): Promise<KeyInfo[]>;
  remove(user: string, provider: string): Promise<boolean>;
  /** The plaintext key for one upstream call; throws VaultError/StoreUnavailableError. undefined when none stored. */
  reveal(user: string, provider: string): Promise<string | undefined>;
  /** Rewraps every record not under the active master key; safe to re-run. */
  rotate(): Promise<RotateResult>;
}

export interface VaultDeps {
  store: VaultStore;
  keyring: Keyring;
  metrics?: Pick<Metrics, "vaultOps" | "storeErrors">;
  /** Ciphertext cache for `reveal`; default 5 s TTL, 10 000 entries. */
  cache?: RecordCacheOptions;
  /** Cross-instance announcements of changed keys (Redis mode), so caches drop them at once. */
  changes?: ChangeFeed;
  /** Clock for timestamps, for tests. */
  now?: () => Date;
}

/** Longest key accepted (SPEC §5). */
export const MAX_KEY_LENGTH = 256;
const MAX_ID_LENGTH = 512;
// Whitespace or control characters in a key would end up in an HTTP header.
const KEY_CHARS = /^[\x21-\x7e]+$/;
const ID_CHARS = /^\P{Cc}+$/u;

/**
 * The vault: API keys encrypted per (user, provider) in a `VaultStore`.
 *
 * @example const vault = createVault({ store: createRedisStore(redis), keyring, metrics })
 */
export function createVault(deps: VaultDeps): Vault {
  const { store, keyring, metrics } = deps;
  const cipher = createCipher(keyring);
  const cache = createRecordCache(deps.cache);
  const now = deps.now ?? (() => new Date());
  const changes = deps.changes;
  changes?.subscribe(
    (user, provider) => cache.delete(user, provider),
    () => cache.clear(),
  );
  const changed = (user: string, provider: string) => {
    cache.delete(user, provider);
    changes?.publish(user, provider);
  };

  async function track<T>(op: string, run: () => Promise<T>, missing?: (value: T) => boolean): Promise<T> {
    try {
      const value = await run();
      metrics?.vaultOps.inc({ op, result: missing?.(value) ? "missing" : "ok" });
      return value;
    } catch (error) {
      metrics?.vaultOps.inc({ op, result: "error" });
      if (error instanceof StoreUnavailableError) metrics?.storeErrors.inc({ store: "vault", op });
      throw error;
    }
  }

  return {
    put: (user, provider, apiKey) =>
      track("put", async () => {
        checkIds(user, provider);
        checkKey(apiKey);
        const stamp = rfc3339(now());
        const ciphertext = cipher.encrypt(user, provider, apiKey);
        const record = { ciphertext, hint: keyHint(apiKey), created_at: stamp, updated_at: stamp };
        const stored = await store.put(user, provider, record);
        // After the write: a reveal racing this put cannot leave the old record cached.
        changed(user, provider);
        return toKeyInfo(provider, stored);
      }),
    info: (user, provider) =>
      track(
        "get",
        async () => {
          checkIds(user, provider);
          const record = await store.get(user, provider);
          return record && toKeyInfo(provider, record);
        },
        (info) => info === undefined,
      ),
    list: (user) =>
      track("list", async () => {
        checkIds(user, "-");
        const records = await store.list(user);
        return [...records].map(([p, r]) => toKeyInfo(p, r)).sort((a, b) => compare(a.provider, b.provider));
      }),
    remove: (user, provider) =>
      track(
        "delete",
        async () => {
          checkIds(user, provider);
          const removed = await store.delete(user, provider);
          changed(user, provider);
          return removed;
        },
        (removed) => !removed,
      ),
    reveal: (user, provider) =>
      track(
        "decrypt",
        async () => {
          let record = cache.get(user, provider);
          if (record === undefined) {
            record = await store.get(user, provider);
            if (record === undefined) return undefined;
            cache.set(user, provider, record);
          }
          return cipher.decrypt(user, provider, record.ciphertext);
        },
        (key) => key === undefined,
      ),
    rotate: async () => {
      const result = await rotateAll({ store, cipher, activeKeyId: keyring.active.id });
      cache.clear();
      return result;
    },
  };
}

/** The public view of a record. */
export function toKeyInfo(provider: string, record: VaultRecord): KeyInfo {
  return { provider, hint: record.hint, created_at: record.created_at, updated_at: record.updated_at };
}

function checkIds(user: string, provider: string): void {
  if (typeof user !== "string" || user.length > MAX_ID_LENGTH || !ID_CHARS.test(user)) {
    throw new VaultError(
      "invalid-input",
      `user id must be 1-${MAX_ID_LENGTH} characters without control characters`,
    );
  }
  if (typeof provider !== "string" || provider.length > MAX_ID_LENGTH || !ID_CHARS.test(provider)) {
    throw new VaultError("invalid-input", "provider name must be non-empty, without control characters");
  }
}

/** Never quotes the key: the message goes back to the caller and into logs. */
function checkKey(apiKey: string): void {
  if (typeof apiKey !== "string" || apiKey.length === 0)
    throw new VaultError("invalid-input", "API key is empty");
  if (apiKey.length > MAX_KEY_LENGTH) {
    throw new VaultError("invalid-input", `API key is longer than ${MAX_KEY_LENGTH} characters`);
  }
  if (!KEY_CHARS.test(apiKey)) {
    throw new VaultError("invalid-input", "API key may only contain printable ASCII without spaces");
  }
}

/** RFC 3339 UTC, whole seconds: `2026-11-25T12:00:00Z`. */
function rfc3339(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type { RotateResult };
