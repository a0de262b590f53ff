/**
 * Counters in Redis: one Lua script call per request on a single Redis (the
 * requests of one event-loop turn share it, see below). On a
 * Redis Cluster a request's counters are grouped by hash tag (user, ip,
 * global), one script runs per group in parallel, and if any group rejects,
 * the groups that passed get their units back (window-id checked), so the
 * request consumes nothing: all-or-nothing in effect, though a concurrent
 * request may briefly see the taken units. Given a `NodeHealth`, a group
 * whose master recently failed fails at once instead of paying the
 * redirection retries again (see store-health.ts).
 */
import generate from "cluster-key-slot";
import { Cluster, type Redis } from "ioredis";
import { StoreUnavailableError } from "../errors.ts";
import type { RedisConnection } from "../store/redis.ts";
import { PEEK, RENEW, SETTLE, TAKE } from "./lua.ts";
import type { NodeHealth } from "./store-health.ts";
import { turnBatcher } from "./turn-batch.ts";
import type { Adjustment, Counter, CounterState, LeaseKey, QuotaStore, TakeResult } from "./types.ts";

type ScriptArgs = [numKeys: number, ...args: (string | number)[]];
type Script = (...args: ScriptArgs) => Promise<unknown>;
interface Scripts {
  kgTake: Script;
  kgSettle: Script;
  kgRenew: Script;
  kgPeek: Script;
}

/** What ends a call, in one script group: its settlements, or its leases to release. */
type CallEnd =
  | { readonly adjustments: readonly Adjustment[] }
  | { readonly leases: readonly LeaseKey[]; readonly leaseId: string };

/** One request's counters in one script group, as the TAKE script checks them. */
interface TakeRequest {
  readonly counters: readonly Counter[];
  readonly leaseId: string;
}

/** Counters one store call took, as `take` returned them. */
export interface Taken {
  readonly counters: readonly Counter[];
  readonly result: TakeResult;
}

/** Groups items by hash tag on a cluster; a single Redis takes everything in one call. */
export function groups<T extends { readonly tag: string }>(
  items: readonly T[],
  cluster: boolean,
): (readonly T[])[] {
  if (!cluster) return items.length === 0 ? [] : [items];
  const byTag = new Map<string, T[]>();
  for (const item of items) {
    const group = byTag.get(item.tag);
    if (group) group.push(item);
    else byTag.set(item.tag, [item]);
  }
  return [...byTag.values()];
}

/** Gives back, on `store`, what allowed takes charged: units of their windows and their leases. */
export async function giveBack(store: QuotaStore, taken: readonly Taken[], leaseId: string): Promise<void> {
  const adjustments: Adjustment[] = [];
  const leases: LeaseKey[] = [];
  for (const { counters, result } of taken) {
    if (!result.allowed) continue;
    counters.forEach((c, i) => {
      const s = result.states[i]!;
      if (!s.fits) return;
      if (c.kind === "c") leases.push(c);
      else adjustments.push({ key: c.key, tag: c.tag, start: s.start, delta: -c.cost });
    });
  }
  const work: Promise<void>[] = [];
  if (adjustments.length > 0) work.push(store.adjust(adjustments));
  if (leases.length > 0) work.push(store.release(leases, leaseId));
  await Promise.all(work);
}

/** States as after a give-back: a rejected request holds nothing. */
export function givenBack(taken: Taken): readonly CounterState[] {
  const { counters, result } = taken;
  if (!result.allowed) return result.states;
  return result.states.map((s, i) => (s.fits ? { ...s, used: s.used - counters[i]!.cost } : s));
}

/** The cluster slot of a `{…}` hash tag (via ioredis's own slot library, so they always agree). */
export function slotOf(tag: string): number {
  return generate(tag);
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

/** @example const store = createRedisStore(createRedisConnection(process.env)!, createNodeHealth({ metrics, logger })); */
export function createRedisStore(redis: RedisConnection, nodes?: NodeHealth): QuotaStore {
  const client = redis as RedisConnection & Scripts;
  if (typeof client.kgTake !== "function") {
    redis.defineCommand("kgTake", { lua: TAKE });
    redis.defineCommand("kgSettle", { lua: SETTLE });
    redis.defineCommand("kgRenew", { lua: RENEW });
    redis.defineCommand("kgPeek", { lua: PEEK });
  }
  const cluster = redis instanceof Cluster ? redis : undefined;
  const health = cluster ? nodes : undefined;

  /** The master serving `tag`'s slot as ioredis last saw it (`host:port`), "?" before the slot map loads. */
  const nodeOf = (tag: string): string => cluster?.slots[slotOf(tag)]?.[0] ?? "?";

  function probe(node: string, tag: string): void {
    cluster!.exists(tag).then(
      () => health!.succeeded(node),
      (err: unknown) => health!.failed(node, "probe", err),
    );
  }

  /** One script call for one group (one tag on a cluster), through the master's health when tracked. */
  async function call<T>(op: string, tag: string, work: () => Promise<T>): Promise<T> {
    const node = health ? nodeOf(tag) : "";
    if (health) {
      const state = health.state(node);
      if (state !== "up") {
        if (state === "probe") probe(node, tag);
        throw new StoreUnavailableError("quota store", { cause: new Error(`master ${node} is down`) });
      }
    }
    try {
      const result = await work();
      health?.succeeded(node);
      return result;
    } catch (err) {
      health?.failed(node, op, err);
      throw new StoreUnavailableError("quota store", { cause: err });
    }
  }

  /**
   * Calls are batched per event-loop turn and script group (everything on a
   * single Redis, one hash tag on a cluster; see turn-batch.ts). The
   * checks of one turn are one TAKE call, which runs them in order, each
   * all-or-nothing as if alone; what ends calls in one turn
   * (settlements and lease releases) shares a single SETTLE call, the
   * answers being already sent.
   */
  const groupKey = (tag: string) => (cluster ? tag : "");

  const takeBatch = turnBatcher<TakeRequest, TakeResult>(async (batch) => {
    const keys: string[] = [];
    const argv: (string | number)[] = [batch.length];
    for (const { item } of batch) {
      argv.push(item.counters.length, item.leaseId);
      for (const c of item.counters) {
        keys.push(c.key);
        argv.push(c.kind, c.quota, c.windowMs, c.cost, c.enforce ? 1 : 0);
      }
    }
    const reply = (await client.kgTake(keys.length, ...keys, ...argv)) as number[];
    let at = 0;
    for (const p of batch) {
      const n = p.item.counters.length;
      p.resolve({ allowed: reply[at] === 1, states: states(reply, at + 1, n) });
      at += 1 + 4 * n;
    }
  });

  const endBatch = turnBatcher<CallEnd, void>(async (batch) => {
    const adjustments: Adjustment[] = [];
    const leaseKeys: string[] = [];
    const leaseIds: string[] = [];
    for (const { item } of batch) {
      if ("adjustments" in item) adjustments.push(...item.adjustments);
      else
        for (const l of item.leases) {
          leaseKeys.push(l.key);
          leaseIds.push(item.leaseId);
        }
    }
    const first = batch[0]!.item;
    const tag = "adjustments" in first ? first.adjustments[0]!.tag : first.leases[0]!.tag;
    await call("settle", tag, () =>
      client.kgSettle(
        adjustments.length + leaseKeys.length,
        ...adjustments.map((a) => a.key),
        ...leaseKeys,
        adjustments.length,
        ...adjustments.flatMap((a) => [a.start, a.delta]),
        ...leaseIds,
      ),
    );
    for (const p of batch) p.resolve();
  });

  function takeGroup(counters: readonly Counter[], leaseId: string): Promise<TakeResult> {
    const tag = counters[0]!.tag;
    return call("check", tag, () => takeBatch(groupKey(tag), { counters, leaseId }));
  }

  const store: QuotaStore = {
    async take(counters, leaseId) {
      const parts = groups(counters, cluster !== undefined);
      if (parts.length <= 1) return parts[0] ? takeGroup(parts[0], leaseId) : { allowed: true, states: [] };
      const settled = await Promise.allSettled(parts.map((g) => takeGroup(g, leaseId)));
      const taken: Taken[] = [];
      let failure: unknown;
      settled.forEach((s, i) => {
        if (s.status === "rejected") failure ??= s.reason;
        else taken.push({ counters: parts[i]!, result: s.value });
      });
      const allowed = failure === undefined && taken.every((t) => t.result.allowed);
      if (!allowed) await giveBack(store, taken, leaseId).catch(() => {});
      if (failure !== undefined) throw failure;
      const stateOf = new Map<Counter, CounterState>();
      for (const t of taken) {
        const st = allowed ? t.result.states : givenBack(t);
        t.counters.forEach((c, j) => {
          stateOf.set(c, st[j]!);
        });
      }
      return { allowed, states: counters.map((c) => stateOf.get(c)!) };
    },
    async adjust(adjustments) {
      await Promise.all(
        groups(adjustments, cluster !== undefined).map((g) =>
          endBatch(groupKey(g[0]!.tag), { adjustments: g }),
        ),
      );
    },
    async renew(leases, leaseId, ttlMs) {
      await Promise.all(
        groups(leases, cluster !== undefined).map((g) =>
          call("renew", g[0]!.tag, () => client.kgRenew(g.length, ...g.map((l) => l.key), leaseId, ttlMs)),
        ),
      );
    },
    async release(leases, leaseId) {
      await Promise.all(
        groups(leases, cluster !== undefined).map((g) =>
          endBatch(groupKey(g[0]!.tag), { leases: g, leaseId }),
        ),
      );
    },
    async peek(counters) {
      const parts = groups(counters, cluster !== undefined);
      const replies = await Promise.all(
        parts.map((g) =>
          call("peek", g[0]!.tag, () =>
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
      // A cluster is fully usable only if every master answers: one dead master fails its slots' requests.
      const targets: Redis[] = cluster ? cluster.nodes("master") : [redis as Redis];
      if (targets.length === 0) throw new StoreUnavailableError("quota store");
      const results = await Promise.allSettled(targets.map((node) => node.ping()));
      let failure: unknown;
      results.forEach((r, i) => {
        const key = `${targets[i]!.options.host}:${targets[i]!.options.port}`;
        if (r.status === "fulfilled") health?.succeeded(key);
        else {
          health?.failed(key, "ping", r.reason);
          failure ??= r.reason;
        }
      });
      if (failure !== undefined) throw new StoreUnavailableError("quota store", { cause: failure });
    },
    async close() {},
  };

  return store;
}
