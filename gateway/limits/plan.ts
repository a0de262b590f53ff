/**
 * Turns the limits matching a request into the counters it touches. Per-limit
 * key suffixes are computed once per compiled limit (a policy reload brings new
 * limit objects, and unchanged names keep their counters); per request only
 * the subject's tag and the tier lookup remain.
 */
import type { CompiledLimit, OnStoreFailure, Rate } from "../../policies/types.ts";
import type { Counter, CounterKind } from "./types.ts";

/** Who a request counts against. */
export interface Subject {
  /** The user claim; undefined for anonymous requests (per-user limits are skipped). */
  readonly user: string | undefined;
  /** The tier claim; picks `limit.tiers` overrides. */
  readonly tier: string | undefined;
  /** The client address `per: ip` limits key on. */
  readonly ip: string;
}

export interface PlannedCounter extends Counter {
  readonly onStoreFailure: OnStoreFailure;
}

/** Concurrency leases live this long unless renewed (a crashed holder's lease lapses). */
export const DEFAULT_LEASE_TTL_MS = 60_000;
export const KEY_PREFIX = "kg:q:";

interface Suffixes {
  readonly r: string;
  readonly t: string;
  readonly c: string;
}
const suffixCache = new WeakMap<CompiledLimit, Suffixes>();

function suffixes(limit: CompiledLimit): Suffixes {
  let s = suffixCache.get(limit);
  if (!s) {
    s = { r: `:${limit.name}:r`, t: `:${limit.name}:t`, c: `:${limit.name}:c` };
    suffixCache.set(limit, s);
  }
  return s;
}

/** The hash tag that keeps one subject's keys in one cluster slot; ids are URI-encoded so `{`/`}` cannot break it. */
export function tagFor(limit: CompiledLimit, subject: Subject): string | undefined {
  if (limit.per === "global") return "{g}";
  if (limit.per === "ip") return `{ip:${encodeURIComponent(subject.ip)}}`;
  return subject.user === undefined ? undefined : `{u:${encodeURIComponent(subject.user)}}`;
}

/** Counters for `limits`, in limit order (requests, tokens, concurrency per limit). */
export function planCounters(
  limits: readonly CompiledLimit[],
  subject: Subject,
  reserveTokens: number,
  leaseTtlMs: number,
): PlannedCounter[] {
  const out: PlannedCounter[] = [];
  for (const limit of limits) {
    const tag = tagFor(limit, subject);
    if (tag === undefined) continue;
    const override = subject.tier === undefined ? undefined : limit.tiers.get(subject.tier);
    const rate = override?.rate ?? limit.rate;
    const tokens = override?.tokens ?? limit.tokens;
    const concurrent = override?.concurrent ?? limit.concurrent;
    const s = suffixes(limit);
    if (rate) out.push(windowed(limit, tag, "r", s.r, rate, 1));
    if (tokens) out.push(windowed(limit, tag, "t", s.t, tokens, reserveTokens));
    if (concurrent !== undefined) {
      out.push({
        key: KEY_PREFIX + tag + s.c,
        tag,
        kind: "c",
        limit: limit.name,
        quota: concurrent,
        windowMs: leaseTtlMs,
        cost: 1,
        enforce: !limit.shadow,
        onStoreFailure: limit.onStoreFailure,
      });
    }
  }
  return out;
}

function windowed(
  limit: CompiledLimit,
  tag: string,
  kind: CounterKind,
  suffix: string,
  rate: Rate,
  cost: number,
): PlannedCounter {
  return {
    key: KEY_PREFIX + tag + suffix,
    tag,
    kind,
    limit: limit.name,
    quota: rate.quota,
    windowMs: rate.windowMs,
    cost,
    enforce: !limit.shadow,
    onStoreFailure: limit.onStoreFailure,
    ...(kind === "t" ? { count: limit.count } : {}),
  };
}
