/**
 * In-process counters: embedded mode's store and the `local` insurance while
 * Redis is down. Same semantics as the Lua scripts; each call checks and
 * commits synchronously, so it is exact within the process. Expired entries
 * are swept in one pass at most once a second (no per-key timers), which keeps
 * memory bounded by the keys active in their windows.
 */
import type { Adjustment, Counter, CounterState, LeaseKey, QuotaStore, TakeResult } from "./types.ts";

interface Window {
  start: number;
  used: number;
  windowMs: number;
}

const SWEEP_EVERY_MS = 1_000;

/** A token counter needs at least one token left, even for a request that reserves none. */
export const needOf = (counter: Counter): number =>
  counter.kind === "t" ? Math.max(counter.cost, 1) : counter.cost;

/** @example const store = createMemoryStore(); // or { now: () => fakeClock } in tests */
export function createMemoryStore(options: { now?: () => number } = {}): QuotaStore & { size(): number } {
  const now = options.now ?? Date.now;
  const windows = new Map<string, Window>();
  const leases = new Map<string, Map<string, number>>();
  let lastSweep = 0;

  function sweep(t: number): void {
    if (t - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = t;
    for (const [key, w] of windows) if (t >= w.start + w.windowMs) windows.delete(key);
    for (const [key, held] of leases) {
      for (const [id, expiry] of held) if (expiry <= t) held.delete(id);
      if (held.size === 0) leases.delete(key);
    }
  }

  /** The window still open at `t`; `windowMs` is the limit's current length (it may change on reload). */
  function liveWindow(key: string, t: number, windowMs?: number): Window | undefined {
    const w = windows.get(key);
    return w && t < w.start + (windowMs ?? w.windowMs) ? w : undefined;
  }

  function liveLeases(key: string, t: number): number {
    const held = leases.get(key);
    if (!held) return 0;
    for (const [id, expiry] of held) if (expiry <= t) held.delete(id);
    return held.size;
  }

  function state(counter: Counter, t: number): CounterState {
    if (counter.kind === "c") {
      const used = liveLeases(counter.key, t);
      return { used, start: t, resetMs: 1_000, fits: used + counter.cost <= counter.quota };
    }
    const w = liveWindow(counter.key, t, counter.windowMs);
    const start = w?.start ?? t;
    const used = w?.used ?? 0;
    return {
      used,
      start,
      resetMs: start + counter.windowMs - t,
      fits: used + needOf(counter) <= counter.quota,
    };
  }

  function take(counters: readonly Counter[], leaseId: string): TakeResult {
    const t = now();
    sweep(t);
    const states = counters.map((c) => state(c, t));
    const allowed = counters.every((c, i) => !c.enforce || states[i]!.fits);
    if (!allowed) return { allowed, states };
    return {
      allowed,
      states: counters.map((c, i) => {
        const s = states[i]!;
        if (!s.fits) return s;
        if (c.kind === "c") {
          const held = leases.get(c.key);
          if (held) held.set(leaseId, t + c.windowMs);
          else leases.set(c.key, new Map([[leaseId, t + c.windowMs]]));
        } else {
          const w = windows.get(c.key);
          if (w && w.start === s.start) {
            w.used += c.cost;
            w.windowMs = c.windowMs;
          } else windows.set(c.key, { start: s.start, used: s.used + c.cost, windowMs: c.windowMs });
        }
        return { ...s, used: s.used + c.cost };
      }),
    };
  }

  function adjust(adjustments: readonly Adjustment[]): void {
    const t = now();
    for (const a of adjustments) {
      const w = liveWindow(a.key, t);
      if (w && w.start === a.start) w.used = Math.max(0, w.used + a.delta);
    }
  }

  return {
    take: async (counters, leaseId) => take(counters, leaseId),
    adjust: async (adjustments) => adjust(adjustments),
    async renew(keys: readonly LeaseKey[], leaseId: string, ttlMs: number) {
      const t = now();
      for (const { key } of keys) {
        const held = leases.get(key);
        const expiry = held?.get(leaseId);
        if (held && expiry !== undefined && expiry > t) held.set(leaseId, t + ttlMs);
      }
    },
    async release(keys: readonly LeaseKey[], leaseId: string) {
      for (const { key } of keys) leases.get(key)?.delete(leaseId);
    },
    async peek(counters) {
      const t = now();
      return counters.map((c) => state(c, t));
    },
    async ping() {},
    async close() {
      windows.clear();
      leases.clear();
    },
    size: () => windows.size + leases.size,
  };
}
