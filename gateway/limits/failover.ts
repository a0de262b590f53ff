/**
 * Which store answers a call: the shared (Redis) store while it works, else
 * each counter's `on_store_failure` — `local` counters go to the in-process
 * insurance store at this instance's share `ceil(quota / replicas)`, `allow`
 * counters are dropped, and an enforced `deny` counter turns the request into
 * a 503. In embedded mode there is nothing to fail over from.
 *
 * On a single Redis the store is up or down as a whole (`StoreHealth`). On a
 * Redis Cluster each hash-tag group is routed on its own: only the groups
 * whose master failed follow `on_store_failure`, the others are counted in
 * Redis, and the request stays all-or-nothing across both.
 */
import { GatewayError, StoreUnavailableError } from "../errors.ts";
import type { PlannedCounter } from "./plan.ts";
import { giveBack, givenBack, groups } from "./redis-store.ts";
import type { StoreHealth } from "./store-health.ts";
import type { Counter, CounterState, QuotaStore, TakeResult } from "./types.ts";

export interface Routed<T> {
  /** The counters actually used (local shares for those whose store failed). */
  readonly counters: readonly PlannedCounter[];
  /** Those of `counters` held by the insurance store; the rest are in the shared store. */
  readonly local: ReadonlySet<Counter>;
  readonly result: T;
}

const NONE: ReadonlySet<Counter> = new Set();
const ignore = () => {};

export function createFailover(deps: {
  shared: QuotaStore;
  insurance: QuotaStore | undefined;
  /** The single Redis's health; absent on a cluster, where each group routes on its own master's health. */
  health: StoreHealth | undefined;
  replicas: number;
}) {
  const { shared, insurance, health, replicas } = deps;

  function localShare(counters: readonly PlannedCounter[]): PlannedCounter[] {
    const out: PlannedCounter[] = [];
    for (const c of counters) {
      if (c.onStoreFailure === "local") out.push({ ...c, quota: Math.ceil(c.quota / replicas) });
    }
    return out;
  }

  /**
   * Runs `call` on the shared store, per hash-tag group on a cluster, and
   * collects the counters of the groups whose store call failed (all of them
   * while a single Redis is known to be down). Any other error is returned
   * for the caller to throw once it has given back what the other groups took.
   */
  async function onShared<T>(
    op: string,
    counters: readonly PlannedCounter[],
    call: (counters: readonly PlannedCounter[]) => Promise<T>,
  ): Promise<{
    done: { counters: readonly PlannedCounter[]; result: T }[];
    failed: PlannedCounter[];
    error: unknown;
  }> {
    const done: { counters: readonly PlannedCounter[]; result: T }[] = [];
    const failed: PlannedCounter[] = [];
    if (health?.degraded()) return { done, failed: [...counters], error: undefined };
    const parts = groups(counters, health === undefined);
    const only = parts.length === 1 ? parts[0]! : undefined;
    if (only) {
      // One script call (a single Redis, or one hash tag): no settle-all bookkeeping on the hot path.
      try {
        const result = await call(only);
        health?.succeeded();
        return { done: [{ counters: only, result }], failed, error: undefined };
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) return { done, failed, error: err };
        health?.failed(op, err);
        return { done, failed: [...only], error: undefined };
      }
    }
    const settled = await Promise.allSettled(parts.map(call));
    let error: unknown;
    settled.forEach((s, i) => {
      if (s.status === "fulfilled") done.push({ counters: parts[i]!, result: s.value });
      else if (s.reason instanceof StoreUnavailableError) {
        failed.push(...parts[i]!);
        health?.failed(op, s.reason);
      } else error ??= s.reason;
    });
    if (error === undefined && failed.length === 0) health?.succeeded();
    return { done, failed, error };
  }

  /** Reassembles per-counter results in the request's order; failed counters without a local share are dropped. */
  function merge<S>(
    counters: readonly PlannedCounter[],
    done: readonly { counters: readonly PlannedCounter[]; states: readonly S[] }[],
    failed: readonly PlannedCounter[],
    local: readonly PlannedCounter[],
    localStates: readonly S[],
  ): { counters: PlannedCounter[]; states: S[]; local: ReadonlySet<Counter> } {
    const at = new Map<PlannedCounter, { counter: PlannedCounter; state: S }>();
    for (const d of done) {
      d.counters.forEach((c, i) => {
        at.set(c, { counter: c, state: d.states[i]! });
      });
    }
    let j = 0;
    for (const c of failed) {
      if (c.onStoreFailure === "local") at.set(c, { counter: local[j]!, state: localStates[j++]! });
    }
    const out = { counters: [] as PlannedCounter[], states: [] as S[], local: new Set<Counter>(local) };
    for (const c of counters) {
      const hit = at.get(c);
      if (!hit) continue;
      out.counters.push(hit.counter);
      out.states.push(hit.state);
    }
    return out;
  }

  return {
    /** All-or-nothing take; throws the 503 when an enforced `deny` limit's store failed. */
    async take(counters: readonly PlannedCounter[], leaseId: string): Promise<Routed<TakeResult>> {
      if (!insurance) return { counters, local: NONE, result: await shared.take(counters, leaseId) };
      const { done, failed, error } = await onShared("check", counters, (cs) => shared.take(cs, leaseId));
      if (error !== undefined) {
        await giveBack(shared, done, leaseId).catch(ignore);
        throw error;
      }
      if (failed.length === 0 && done.length === 1) return { counters, local: NONE, result: done[0]!.result };
      const deny = failed.find((c) => c.onStoreFailure === "deny" && c.enforce);
      if (deny) {
        await giveBack(shared, done, leaseId).catch(ignore);
        throw storeDown(deny.limit);
      }
      const local = localShare(failed);
      const sharedAllowed = done.every((d) => d.result.allowed);
      // The insurance goes last and is all-or-nothing by itself, so it never has anything to give back:
      // after a shared rejection it is only looked at.
      let localResult: TakeResult = { allowed: true, states: [] };
      if (local.length > 0) {
        localResult = sharedAllowed
          ? await insurance.take(local, leaseId)
          : { allowed: false, states: await insurance.peek(local) };
      }
      const allowed = sharedAllowed && localResult.allowed;
      if (!allowed) await giveBack(shared, done, leaseId).catch(ignore);
      const states = done.map((d) => ({
        counters: d.counters,
        states: allowed ? d.result.states : givenBack(d),
      }));
      const merged = merge(counters, states, failed, local, localResult.states);
      return { counters: merged.counters, local: merged.local, result: { allowed, states: merged.states } };
    },
    /** Current state; counters whose store failed are reported only for `local` limits, at their local share. */
    async peek(counters: readonly PlannedCounter[]): Promise<Routed<readonly CounterState[]>> {
      if (!insurance) return { counters, local: NONE, result: await shared.peek(counters) };
      const { done, failed, error } = await onShared("peek", counters, (cs) => shared.peek(cs));
      if (error !== undefined) throw error;
      if (failed.length === 0 && done.length === 1) return { counters, local: NONE, result: done[0]!.result };
      const local = localShare(failed);
      const localStates = local.length > 0 ? await insurance.peek(local) : [];
      const states = done.map((d) => ({ counters: d.counters, states: d.result }));
      const merged = merge(counters, states, failed, local, localStates);
      return { counters: merged.counters, local: merged.local, result: merged.states };
    },
  };
}

function storeDown(limit: string): GatewayError {
  return new GatewayError(
    503,
    "store-unavailable",
    "Service Unavailable",
    `The quota store is unreachable and limit "${limit}" does not allow requests without it. Retry in a few seconds.`,
    { headers: { "Retry-After": "1" } },
  );
}
