/**
 * Which store answers a call: the shared (Redis) store while it works, else
 * each counter's `on_store_failure` — `local` counters go to the in-process
 * insurance store at this instance's share `ceil(quota / replicas)`, `allow`
 * counters are dropped, and an enforced `deny` counter turns the request into
 * a 503. In embedded mode there is nothing to fail over from.
 */
import { GatewayError, StoreUnavailableError } from "../errors.ts";
import type { PlannedCounter } from "./plan.ts";
import type { StoreHealth } from "./store-health.ts";
import type { CounterState, QuotaStore, TakeResult } from "./types.ts";

export interface Routed<T> {
  readonly store: QuotaStore;
  /** The counters actually used (local shares while degraded). */
  readonly counters: readonly PlannedCounter[];
  readonly result: T;
}

export function createFailover(deps: {
  shared: QuotaStore;
  insurance: QuotaStore | undefined;
  health: StoreHealth;
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

  /** Runs `op` on the shared store, or on the local shares when it is (or just went) down. */
  async function route<T>(
    op: string,
    counters: readonly PlannedCounter[],
    call: (store: QuotaStore, counters: readonly PlannedCounter[]) => Promise<T>,
    onDegraded: (counters: readonly PlannedCounter[]) => void,
  ): Promise<Routed<T>> {
    if (!insurance) return { store: shared, counters, result: await call(shared, counters) };
    if (!health.degraded()) {
      try {
        const result = await call(shared, counters);
        health.succeeded();
        return { store: shared, counters, result };
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        health.failed(op, err);
      }
    }
    onDegraded(counters);
    const local = localShare(counters);
    return { store: insurance, counters: local, result: await call(insurance, local) };
  }

  return {
    /** All-or-nothing take; throws the 503 when an enforced `deny` limit matched while degraded. */
    take(counters: readonly PlannedCounter[], leaseId: string): Promise<Routed<TakeResult>> {
      return route(
        "check",
        counters,
        (store, cs) => store.take(cs, leaseId),
        (cs) => {
          const deny = cs.find((c) => c.onStoreFailure === "deny" && c.enforce);
          if (deny) throw storeDown(deny.limit);
        },
      );
    },
    /** Current state; while degraded only the `local` counters, at their local share. */
    peek(counters: readonly PlannedCounter[]): Promise<Routed<readonly CounterState[]>> {
      return route(
        "peek",
        counters,
        (store, cs) => store.peek(cs),
        () => {},
      );
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
