/**
 * A quota decision as data, its headers (draft-ietf-httpapi-ratelimit-headers-11,
 * SPEC §7) and the 429 it becomes. Concurrency and shadow counters are never
 * reported in `RateLimit` headers; a token counter is reported as `<name>:tokens`.
 */
import { GatewayError } from "../errors.ts";
import type { Counter, CounterState } from "./types.ts";

/** Opaque to callers: what `settle`, `renew` and `release` need. */
export interface Ticket {
  readonly id: string;
}

export type Decision =
  | {
      readonly allowed: true;
      readonly headers: Readonly<Record<string, string>>;
      readonly ticket: Ticket;
      /** Shadow limits that would have rejected this request. */
      readonly shadowViolations: readonly string[];
      /** Lowest remaining among the reported request / token counters (for OpenAI-style `x-ratelimit-remaining-*`). */
      readonly remaining: Remaining;
    }
  | {
      readonly allowed: false;
      readonly headers: Readonly<Record<string, string>>;
      /** Names of the limits that rejected, in policy order. */
      readonly violated: readonly string[];
      readonly retryAfterS: number;
      /** False when `Retry-After` > 60 s or the request can never fit a limit. */
      readonly shouldRetry: boolean;
      /** `tokens` when a broken counter was a token quota. */
      readonly exhausted: "requests" | "tokens";
    };

export type Denial = Extract<Decision, { allowed: false }>;

export interface Remaining {
  readonly requests?: number;
  readonly tokens?: number;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const LONGEST_USEFUL_RETRY_S = 60;

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
const reported = (c: Counter): boolean => c.enforce && c.kind !== "c";
const policyName = (c: Counter): string => (c.kind === "t" ? `${c.limit}:tokens` : c.limit);
const remaining = (c: Counter, s: CounterState): number => Math.max(0, c.quota - s.used);

function headersFor(
  counters: readonly Counter[],
  states: readonly CounterState[],
  picked: readonly number[],
) {
  if (picked.length === 0) return {};
  const policy = picked.map(
    (i) => `"${policyName(counters[i]!)}";q=${counters[i]!.quota};w=${seconds(counters[i]!.windowMs)}`,
  );
  const state = picked.map(
    (i) =>
      `"${policyName(counters[i]!)}";r=${remaining(counters[i]!, states[i]!)};t=${seconds(states[i]!.resetMs)}`,
  );
  return { "RateLimit-Policy": policy.join(", "), RateLimit: state.join(", ") };
}

/** Index of the reported counter with the lowest remaining ÷ quota (first on ties), or -1. */
function tightest(counters: readonly Counter[], states: readonly CounterState[]): number {
  let best = -1;
  let bestRatio = Number.POSITIVE_INFINITY;
  counters.forEach((c, i) => {
    if (!reported(c)) return;
    const ratio = c.quota === 0 ? 0 : remaining(c, states[i]!) / c.quota;
    if (ratio < bestRatio) {
      best = i;
      bestRatio = ratio;
    }
  });
  return best;
}

/** Lowest remaining per kind over the reported counters. */
export function lowestRemaining(counters: readonly Counter[], states: readonly CounterState[]): Remaining {
  let requests: number | undefined;
  let tokens: number | undefined;
  counters.forEach((c, i) => {
    if (!reported(c)) return;
    const left = remaining(c, states[i]!);
    if (c.kind === "r") requests = Math.min(requests ?? left, left);
    else tokens = Math.min(tokens ?? left, left);
  });
  return { ...(requests === undefined ? {} : { requests }), ...(tokens === undefined ? {} : { tokens }) };
}

/** Headers for a passing request: the tightest non-shadow window counter only. */
export function passingHeaders(counters: readonly Counter[], states: readonly CounterState[]) {
  const i = tightest(counters, states);
  return i < 0 ? EMPTY : headersFor(counters, states, [i]);
}

/** The denial for a rejected request: violated limits, headers, Retry-After and whether retrying can help. */
export function denial(counters: readonly Counter[], states: readonly CounterState[]): Denial {
  const violated: string[] = [];
  const shown: number[] = [];
  let retryAfterS = 1;
  let neverFits = false;
  let exhausted: "requests" | "tokens" = "requests";
  counters.forEach((c, i) => {
    const s = states[i]!;
    if (!c.enforce || s.fits) return;
    if (!violated.includes(c.limit)) violated.push(c.limit);
    if (c.kind === "t") exhausted = "tokens";
    if (c.kind !== "c") shown.push(i);
    retryAfterS = Math.max(retryAfterS, seconds(s.resetMs));
    if (c.cost > c.quota) neverFits = true;
  });
  // Only a concurrency limit rejected: still tell the client where its windows stand.
  if (shown.length === 0) {
    const i = tightest(counters, states);
    if (i >= 0) shown.push(i);
  }
  const headers = { ...headersFor(counters, states, shown), "Retry-After": String(retryAfterS) };
  const shouldRetry = !neverFits && retryAfterS <= LONGEST_USEFUL_RETRY_S;
  return { allowed: false, headers, violated, retryAfterS, shouldRetry, exhausted };
}

/**
 * The 429 for a denial: `GatewayError(429, "rate-limited")` carrying the
 * decision's headers, `x-should-retry: false` when retrying cannot help soon,
 * and `rateLimit` (violated limits, Retry-After) for the error renderers.
 *
 * @example if (!d.allowed) throw rateLimitError(d);
 */
export function rateLimitError(denied: Denial): GatewayError {
  const headers: Record<string, string> = { ...denied.headers };
  if (!denied.shouldRetry) headers["x-should-retry"] = "false";
  const names = denied.violated.join(", ");
  const detail = denied.shouldRetry
    ? `Quota exceeded (${names}). Retry after ${denied.retryAfterS} s.`
    : `Quota exceeded (${names}). Retrying soon will not help: the request exceeds what the limit allows in one window, or the window resets in ${denied.retryAfterS} s.`;
  return new GatewayError(429, "rate-limited", "Too Many Requests", detail, {
    headers,
    rateLimit: {
      violated: denied.violated,
      retryAfterS: denied.retryAfterS,
      shouldRetry: denied.shouldRetry,
      exhausted: denied.exhausted,
    },
  });
}
