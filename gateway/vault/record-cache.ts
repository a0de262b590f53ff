import type { VaultRecord } from "./store.ts";

export interface RecordCacheOptions {
  /** How long a record read from the store is reused. Default 5 000 ms; 0 disables the cache. */
  ttlMs?: number;
  /** Most records kept; the oldest entry is evicted first. Default 10 000. */
  maxEntries?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** A short-lived, bounded cache of *ciphertext* records (never plaintext). */
export interface RecordCache {
  get(user: string, provider: string): VaultRecord | undefined;
  set(user: string, provider: string, record: VaultRecord): void;
  delete(user: string, provider: string): void;
  clear(): void;
}

/**
 * Saves a store round trip per LLM call. Another instance's update is seen
 * within `ttlMs`; this instance's own puts and removes invalidate at once.
 */
export function createRecordCache(options: RecordCacheOptions = {}): RecordCache {
  const ttlMs = options.ttlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  if (!(ttlMs >= 0)) throw new Error("record cache: ttlMs must be >= 0");
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new Error("record cache: maxEntries must be >= 1");
  // Insertion order = age, so the first key is the one to evict.
  const entries = new Map<string, { record: VaultRecord; expires: number }>();
  // JSON array keys: no separator a user id could contain can make two pairs collide.
  const keyOf = (user: string, provider: string) => JSON.stringify([user, provider]);

  return {
    get(user, provider) {
      const key = keyOf(user, provider);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.expires > now()) return entry.record;
      entries.delete(key);
      return undefined;
    },
    set(user, provider, record) {
      if (ttlMs === 0) return;
      const key = keyOf(user, provider);
      entries.delete(key);
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(key, { record, expires: now() + ttlMs });
    },
    delete(user, provider) {
      entries.delete(keyOf(user, provider));
    },
    clear() {
      entries.clear();
    },
  };
}
