/**
 * Verified tokens, remembered until they expire, so the hot path skips the
 * signature check (HMAC ~20 µs, RSA far more) for a token it has seen.
 *
 * Bounded: past `maxEntries` the oldest entry goes (a Map iterates in
 * insertion order). Only successes are stored, so a flood of bad tokens
 * cannot grow it, and an entry is dropped once `validUntilMs` has passed.
 */

export interface TokenCache<V> {
  /** The value for `token` if stored and still valid at `nowMs`. */
  get(token: string, nowMs: number): V | undefined;
  /** Stores `value` until `validUntilMs` (epoch ms, exclusive). */
  set(token: string, value: V, validUntilMs: number): void;
  readonly size: number;
}

interface Entry<V> {
  readonly value: V;
  readonly validUntilMs: number;
}

/** @example const cache = createTokenCache<Identity>(10_000); */
export function createTokenCache<V>(maxEntries: number): TokenCache<V> {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new Error(`token cache: maxEntries must be a positive integer, got ${maxEntries}`);
  }
  const entries = new Map<string, Entry<V>>();
  return {
    get(token, nowMs) {
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      if (nowMs >= entry.validUntilMs) {
        entries.delete(token);
        return undefined;
      }
      return entry.value;
    },
    set(token, value, validUntilMs) {
      if (!entries.has(token) && entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      entries.set(token, { value, validUntilMs });
    },
    get size() {
      return entries.size;
    },
  };
}
