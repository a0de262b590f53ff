import type { TokenKind } from "../../policies/types.ts";

/**
 * What the quota service asks of a counter store. Two implementations share
 * these semantics exactly: `redis-store.ts` (shared, one Lua script per hash
 * tag) and `memory-store.ts` (embedded mode and the `local` insurance).
 */

/** `r` requests, `t` tokens (both fixed windows), `c` concurrency leases. */
export type CounterKind = "r" | "t" | "c";

/** One counter a request touches, with what it costs. */
export interface Counter {
  /** Full store key, e.g. `kg:q:{u:alice}:user-requests:r`. */
  readonly key: string;
  /** The key's hash tag (`{u:alice}`): counters with one tag share a Redis Cluster slot. */
  readonly tag: string;
  readonly kind: CounterKind;
  /** The limit this counter belongs to (for headers, metrics, violations). */
  readonly limit: string;
  readonly quota: number;
  /** Window length; for `c` the lease lifetime. */
  readonly windowMs: number;
  /** Units this request takes (1 request, N reserved tokens, 1 lease). */
  readonly cost: number;
  /** False for shadow limits: counted when they fit, never reject. */
  readonly enforce: boolean;
  /** `t` counters: which usage fields the limit counts (its `count:`), for settlement. */
  readonly count?: readonly TokenKind[];
}

/** A counter's state as a store saw it during one call. */
export interface CounterState {
  /** Units used after the call (unchanged when the request was rejected). */
  readonly used: number;
  /** Window id: its start in ms (store clock). For `c`, the time of the call. */
  readonly start: number;
  /** Ms until the window ends; for a rejected `c`, a retry hint. */
  readonly resetMs: number;
  /** Whether this counter had room for the cost. */
  readonly fits: boolean;
}

export interface TakeResult {
  /** Every enforced counter fit; then every fitting counter was charged, else nothing was. */
  readonly allowed: boolean;
  /** One per counter, in the order given. */
  readonly states: readonly CounterState[];
}

/** A delta aimed at one window: dropped when that window has ended. */
export interface Adjustment {
  readonly key: string;
  readonly tag: string;
  readonly start: number;
  readonly delta: number;
}

/** A concurrency lease key held by a request. */
export interface LeaseKey {
  readonly key: string;
  readonly tag: string;
}

export interface QuotaStore {
  /** All-or-nothing check-and-charge. `leaseId` names this request's concurrency leases. */
  take(counters: readonly Counter[], leaseId: string): Promise<TakeResult>;
  /** Applies deltas to the windows they name; never below 0; ended windows untouched. */
  adjust(adjustments: readonly Adjustment[]): Promise<void>;
  /** Extends the leases to now + `ttlMs` (only leases still held). */
  renew(leases: readonly LeaseKey[], leaseId: string, ttlMs: number): Promise<void>;
  release(leases: readonly LeaseKey[], leaseId: string): Promise<void>;
  /** Current state without charging (`fits` = cost would fit). */
  peek(counters: readonly Counter[]): Promise<readonly CounterState[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
