/**
 * The load test's verdict and tables: per action and overall throughput,
 * p50/p95/p99, intended 429s by limit, errors by reason, and RSS over time.
 */
import { percentile } from "./stats.ts";
import { markdownTable } from "./table.ts";
import { ACTIONS, type Tallies } from "./users.ts";

export interface ActionSummary {
  readonly action: string;
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly ok: number;
  readonly limited: number;
  readonly errors: number;
}

export interface LoadtestSummary {
  readonly users: number;
  readonly greedyUsers: number;
  readonly seconds: number;
  readonly actions: ActionSummary[];
  readonly total: ActionSummary;
  readonly limitedBy: Record<string, number>;
  readonly normalUsersLimited: number;
  readonly errorReasons: Record<string, number>;
  readonly rss: { t: number; mib: number }[];
  readonly peakRssMiB: number;
  readonly p95BarMs: number;
  /** No errors besides intended 429s, and overall P95 under the bar. */
  readonly pass: boolean;
}

function row(
  action: string,
  lat: Float64Array,
  ok: number,
  limited: number,
  errors: number,
  seconds: number,
): ActionSummary {
  const requests = ok + limited + errors;
  return {
    action,
    requests,
    rps: requests / seconds,
    p50: percentile(lat, 50),
    p95: percentile(lat, 95),
    p99: percentile(lat, 99),
    ok,
    limited,
    errors,
  };
}

const add = (into: Record<string, number>, from: Map<string, number>) => {
  for (const [k, n] of from) into[k] = (into[k] ?? 0) + n;
};

/** Builds the summary; `pass` applies the product's bar. */
export function loadtestSummary(
  tallies: Tallies,
  seconds: number,
  rss: { t: number; mib: number }[],
  peakRssMiB: number,
  p95BarMs: number,
  who: { users: number; greedy: number },
): LoadtestSummary {
  const actions: ActionSummary[] = [];
  const limitedBy: Record<string, number> = {};
  const errorReasons: Record<string, number> = {};
  const all: number[] = [];
  let ok = 0;
  let limited = 0;
  let errors = 0;
  for (const a of ACTIONS) {
    const t = tallies.byAction.get(a)!;
    actions.push(row(a, t.latencyMs.sorted(), t.ok, t.limited, t.errors, seconds));
    // A loop, not push(...samples): a long run has millions of samples, more than a call's arguments.
    for (const ms of t.latencyMs.toArray()) all.push(ms);
    ok += t.ok;
    limited += t.limited;
    errors += t.errors;
    add(limitedBy, t.limitedBy);
    add(errorReasons, t.reasons);
  }
  const total = row("total", Float64Array.from(all).sort(), ok, limited, errors, seconds);
  return {
    users: who.users,
    greedyUsers: who.greedy,
    seconds,
    actions,
    total,
    limitedBy,
    normalUsersLimited: tallies.normalLimited,
    errorReasons,
    rss,
    peakRssMiB,
    p95BarMs,
    pass: errors === 0 && total.p95 < p95BarMs,
  };
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");

/** The printed report. */
export function loadtestTable(s: LoadtestSummary): string {
  const head = ["action", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "2xx", "intended 429", "errors"];
  const line = (a: ActionSummary) => [
    a.action,
    String(a.requests),
    f1(a.rps),
    f1(a.p50),
    f1(a.p95),
    f1(a.p99),
    String(a.ok),
    String(a.limited),
    String(a.errors),
  ];
  const rssLine = s.rss.map((r) => `${r.t.toFixed(0)}s:${r.mib.toFixed(0)}`).join(" ");
  return [
    `keygate load test — ${s.users} users (${s.greedyUsers} greedy) for ${s.seconds.toFixed(1)}s, Redis, mock upstreams`,
    "",
    markdownTable(head, [...s.actions.map(line), line(s.total)]),
    "",
    `intended 429s by limit: ${JSON.stringify(s.limitedBy)}; of them to normal (non-greedy) users: ${s.normalUsersLimited}`,
    `errors by reason: ${JSON.stringify(s.errorReasons)}`,
    `keygate RSS MiB over time: ${rssLine}`,
    `keygate peak RSS: ${f1(s.peakRssMiB)} MiB`,
    `verdict: ${s.pass ? "PASS" : "FAIL"} (bar: P95 < ${s.p95BarMs} ms and no errors besides intended 429s; P95 ${f1(s.total.p95)} ms, ${s.total.errors} errors)`,
  ].join("\n");
}
