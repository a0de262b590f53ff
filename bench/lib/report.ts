/**
 * Turns raw runs into the bench's figures: median req/s across repetitions,
 * latency percentiles over the pooled samples of all repetitions, added
 * latency against the matching direct setup, and the keygate ratios.
 */
import type { RunResult } from "./load.ts";
import { median, percentile, pooled } from "./stats.ts";

export interface Quantiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly samples: number;
}

export interface SetupFigures {
  readonly name: string;
  readonly stream: boolean;
  readonly baseline: string;
  readonly rps: { readonly median: number; readonly reps: number[] };
  /** Per open-loop rate: full-answer latency, ms, from the scheduled send time. */
  readonly latency: Record<string, Quantiles>;
  /** Per open-loop rate: first body byte, ms. */
  readonly ttfb: Record<string, Quantiles>;
  /** Per open-loop rate: the generator's own send lateness, ms. */
  readonly sendLag: Record<string, Quantiles>;
  /** Per rate: p50 / p99 minus the baseline's, ms. */
  readonly added: Record<string, { readonly p50: number; readonly p99: number }>;
  readonly ttfbAdded: Record<string, { readonly p50: number; readonly p99: number }>;
  readonly errors: number;
  readonly firstError?: string;
  /** Non-2xx answers by status, over every measured run. */
  readonly non2xx: Record<string, number>;
  readonly peakRssMiB: number | null;
}

const ms = (sortedUs: Float64Array): Quantiles => ({
  p50: percentile(sortedUs, 50) / 1_000,
  p99: percentile(sortedUs, 99) / 1_000,
  p999: percentile(sortedUs, 99.9) / 1_000,
  samples: sortedUs.length,
});

/** Figures of one setup from its closed-loop runs and its open-loop runs per rate. */
export function summarise(
  setup: { name: string; stream: boolean; baseline: string },
  closed: readonly RunResult[],
  open: ReadonlyMap<number, readonly RunResult[]>,
  peakRssMiB: number | null,
): Omit<SetupFigures, "added" | "ttfbAdded"> {
  const all = [...closed, ...[...open.values()].flat()];
  const non2xx: Record<string, number> = {};
  for (const r of all) {
    for (const [status, n] of Object.entries(r.statuses))
      if (!status.startsWith("2")) non2xx[status] = (non2xx[status] ?? 0) + n;
  }
  const firstError = all.find((r) => r.firstError)?.firstError;
  const latency: Record<string, Quantiles> = {};
  const ttfb: Record<string, Quantiles> = {};
  const sendLag: Record<string, Quantiles> = {};
  for (const [rate, runs] of open) {
    latency[rate] = ms(pooled(runs.map((r) => r.latencyUs)));
    ttfb[rate] = ms(pooled(runs.map((r) => r.ttfbUs)));
    sendLag[rate] = ms(pooled(runs.map((r) => r.sendLagUs)));
  }
  const reps = closed.map((r) => r.rps);
  return {
    ...setup,
    rps: { median: median(reps), reps },
    latency,
    ttfb,
    sendLag,
    errors: all.reduce((n, r) => n + r.errors, 0),
    ...(firstError === undefined ? {} : { firstError }),
    non2xx,
    peakRssMiB,
  };
}

/** Adds the differences to each setup's baseline (same rate, same percentile). */
export function withAdded(figures: readonly Omit<SetupFigures, "added" | "ttfbAdded">[]): SetupFigures[] {
  const byName = new Map(figures.map((f) => [f.name, f]));
  const diff = (a: Record<string, Quantiles>, b: Record<string, Quantiles> | undefined) => {
    const out: Record<string, { p50: number; p99: number }> = {};
    for (const [rate, q] of Object.entries(a)) {
      const base = b?.[rate];
      out[rate] = base
        ? { p50: q.p50 - base.p50, p99: q.p99 - base.p99 }
        : { p50: Number.NaN, p99: Number.NaN };
    }
    return out;
  };
  return figures.map((f) => {
    const base = byName.get(f.baseline);
    return { ...f, added: diff(f.latency, base?.latency), ttfbAdded: diff(f.ttfb, base?.ttfb) };
  });
}

export interface Ratio {
  readonly keygate: string;
  readonly against: string;
  /** keygate req/s ÷ the reference's req/s. */
  readonly rps: number;
  /**
   * keygate's added p50 ÷ the reference's, per rate (streamed setups: added
   * TTFB p50). NaN when the reference adds under 10 µs: a ratio to noise says
   * nothing. Tails are not divided: a difference of p99s is too noisy to ratio.
   */
  readonly addedP50: Record<string, number>;
}

/** keygate / bare proxy and keygate / nginx, for every keygate setup whose reference ran. */
export function ratios(figures: readonly SetupFigures[]): Ratio[] {
  const byName = new Map(figures.map((f) => [f.name, f]));
  const out: Ratio[] = [];
  for (const f of figures) {
    if (!f.name.startsWith("keygate")) continue;
    for (const ref of ["bare-proxy", "nginx"]) {
      const r = byName.get(f.stream ? `${ref}-sse` : ref);
      if (!r) continue;
      const mine = f.stream ? f.ttfbAdded : f.added;
      const theirs = r.stream ? r.ttfbAdded : r.added;
      const addedP50: Record<string, number> = {};
      for (const rate of Object.keys(mine)) {
        const d = theirs[rate]?.p50 ?? Number.NaN;
        addedP50[rate] = d > 0.01 ? mine[rate]!.p50 / d : Number.NaN;
      }
      out.push({ keygate: f.name, against: r.name, rps: f.rps.median / r.rps.median, addedP50 });
    }
  }
  return out;
}
