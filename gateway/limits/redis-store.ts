/**
 * Counters in Redis: one Lua script call per request on a single Redis. On a
 * Redis Cluster a request's counters are grouped by hash tag (user, ip,
 * global), one script runs per group in parallel, and if any group rejects,
 * the groups that passed get their units back (window-id checked), so the
 * request consumes nothing: all-or-nothing in effect, though a concurrent
 * request may briefly see the taken units.
 */
import { Cluster, type Redis } from "ioredis";
import { StoreUnavailableError } from "../errors.ts";
import type { RedisConnection } from "../store/redis.ts";
import { ADJUST, LEASE, PEEK, TAKE } from "./lua.ts";
import type { Adjustment, Counter, CounterState, LeaseKey, QuotaStore, TakeResult } from "./types.ts";

type Script = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>;
interface Scripts {
  kgTake: Script;
  kgAdjust: Script;
  kgLease: Script;
  kgPeek: Script;
}

/** Groups items by hash tag on a cluster; a single Redis takes everything in one call. */
function groups<T extends { readonly tag: string }>(items: readonly T[], cluster: boolean): (readonly T[])[] {
  if (!cluster) return items.length === 0 ? [] : [items];
  const byTag = new Map<string, T[]>();
  for (const item of items) {
    const group = byTag.get(item.tag);
    if (group) group.push(item);
    else byTag.set(item.tag, [item]);
  }
  return [...byTag.values()];
}

function states(reply: unknown, offset: number, count: number): CounterState[] {
  const r = reply as number[];
  const out: CounterState[] = [];
  for (let i = 0; i < count; i++) {
    const b = offset + i * 4;
    out.push({
      used: Number(r[b]),
      start: Number(r[b + 1]),
      resetMs: Number(r[b + 2]),
      fits: r[b + 3] === 1,
    });
  }
  return out;
}

/** @example const store = createRedisStore(createRedisConnection(process.env)!); */
export function createRedisStore(redis: RedisConnection): QuotaStore {
  const client = redis as RedisConnection & Scripts;
  if (typeof client.kgTake !== "function") {
    redis.defineCommand("kgTake", { lua: TAKE });
    redis.defineCommand("kgAdjust", { lua: ADJUST });
    redis.defineCommand("kgLease", { lua: LEASE });
    redis.defineCommand("kgPeek", { lua: PEEK });
  }
  const cluster = redis.isCluster;

  async function call<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      throw new StoreUnavailableError("quota store", { cause: err });
    }
  }

  async function takeGroup(counters: readonly Counter[], leaseId: string): Promise<TakeResult> {
    const args: (string | number)[] = counters.map((c) => c.key);
    args.push(leaseId);
    for (const c of counters) args.push(c.kind, c.quota, c.windowMs, c.cost, c.enforce ? 1 : 0);
    const reply = await call(client.kgTake(counters.length, ...args));
    return { allowed: (reply as number[])[0] === 1, states: states(reply, 1, counters.length) };
  }

  async function adjust(adjustments: readonly Adjustment[]): Promise<void> {
    await Promise.all(
      groups(adjustments, cluster).map((g) =>
        call(client.kgAdjust(g.length, ...g.map((a) => a.key), ...g.flatMap((a) => [a.start, a.delta]))),
      ),
    );
  }

  async function lease(op: "renew" | "release", leases: readonly LeaseKey[], leaseId: string, ttlMs: number) {
    await Promise.all(
      groups(leases, cluster).map((g) =>
        call(client.kgLease(g.length, ...g.map((l) => l.key), op, leaseId, ttlMs)),
      ),
    );
  }

  /** Gives back what passing groups took when another group rejected or failed. */
  async function compensate(taken: { counters: readonly Counter[]; result: TakeResult }[], leaseId: string) {
    const adjustments: Adjustment[] = [];
    const leases: LeaseKey[] = [];
    for (const { counters, result } of taken) {
      counters.forEach((c, i) => {
        const s = result.states[i]!;
        if (!s.fits) return;
        if (c.kind === "c") leases.push(c);
        else adjustments.push({ key: c.key, tag: c.tag, start: s.start, delta: -c.cost });
      });
    }
    await Promise.all([adjust(adjustments), lease("release", leases, leaseId, 0)]);
  }

  return {
    async take(counters, leaseId) {
      const parts = groups(counters, cluster);
      if (parts.length <= 1) return parts[0] ? takeGroup(parts[0], leaseId) : { allowed: true, states: [] };
      const settled = await Promise.allSettled(parts.map((g) => takeGroup(g, leaseId)));
      const passed: { counters: readonly Counter[]; result: TakeResult }[] = [];
      let failure: unknown;
      let allowed = true;
      settled.forEach((s, i) => {
        if (s.status === "rejected") failure ??= s.reason;
        else if (s.value.allowed) passed.push({ counters: parts[i]!, result: s.value });
        else allowed = false;
      });
      if (failure !== undefined || !allowed) await compensate(passed, leaseId).catch(() => {});
      if (failure !== undefined) throw failure;
      const stateOf = new Map<Counter, CounterState>();
      settled.forEach((s, i) => {
        if (s.status !== "fulfilled") return;
        parts[i]!.forEach((c, j) => {
          const st = s.value.states[j]!;
          // Reported as after the give-back: a rejected request holds nothing.
          const given = !allowed && s.value.allowed && st.fits;
          stateOf.set(c, given ? { ...st, used: st.used - c.cost } : st);
        });
      });
      return { allowed, states: counters.map((c) => stateOf.get(c)!) };
    },
    adjust,
    renew: (leases, leaseId, ttlMs) => lease("renew", leases, leaseId, ttlMs),
    release: (leases, leaseId) => lease("release", leases, leaseId, 0),
    async peek(counters) {
      const parts = groups(counters, cluster);
      const replies = await Promise.all(
        parts.map((g) =>
          call(
            client.kgPeek(
              g.length,
              ...g.map((c) => c.key),
              ...g.flatMap((c) => [c.kind, c.quota, c.windowMs, c.cost]),
            ),
          ),
        ),
      );
      const stateOf = new Map<Counter, CounterState>();
      parts.forEach((g, i) => {
        const st = states(replies[i], 0, g.length);
        g.forEach((c, j) => {
          stateOf.set(c, st[j]!);
        });
      });
      return counters.map((c) => stateOf.get(c)!);
    },
    async ping() {
      // A cluster is usable only if every master answers: one dead master fails its slots' requests.
      const targets: Redis[] = redis instanceof Cluster ? redis.nodes("master") : [redis];
      if (targets.length === 0) throw new StoreUnavailableError("quota store");
      await call(Promise.all(targets.map((node) => node.ping())));
    },
    async close() {},
  };
}
