/**
 * Plain-text tables for the terminal (and for pasting into docs/performance.md
 * as Markdown: every line is a Markdown table row).
 */
import type { Ratio, SetupFigures } from "./report.ts";

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const f3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : "–");
const signed = (n: number) => (Number.isFinite(n) ? (n >= 0 ? "+" : "") + n.toFixed(3) : "–");
const k1 = (n: number) => (n >= 1_000 ? `${(n / 1_000).toFixed(1)}k` : String(Math.round(n)));
/** Median req/s with the spread of the repetitions: one figure alone hides how noisy a machine is. */
const rps = (r: { median: number; reps: number[] }) =>
  r.reps.length > 1
    ? `${f0(r.median)} (${k1(Math.min(...r.reps))}–${k1(Math.max(...r.reps))})`
    : f0(r.median);
const ratio = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "–");

/** Renders rows as an aligned Markdown table. */
export function markdownTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `${"-".repeat(w + 1)}-` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

const problems = (f: SetupFigures) => {
  const non2xx = Object.values(f.non2xx).reduce((a, b) => a + b, 0);
  return f.errors + non2xx === 0 ? "0" : `${f.errors} err, ${non2xx} non-2xx`;
};

/** The plain (non-streamed) table: req/s, latency at each rate, added latency, peak RSS. */
export function plainTable(figures: readonly SetupFigures[], rates: readonly number[]): string {
  const head = ["setup", "req/s @50c (min–max)"];
  for (const r of rates) head.push(`p50 @${r}`, `p99 @${r}`);
  for (const r of rates) head.push(`+p50 @${r}`, `+p99 @${r}`);
  head.push("peak RSS MiB", "errors");
  const rows = figures
    .filter((f) => !f.stream)
    .map((f) => {
      const row = [f.name, rps(f.rps)];
      for (const r of rates)
        row.push(f3(f.latency[r]?.p50 ?? Number.NaN), f3(f.latency[r]?.p99 ?? Number.NaN));
      for (const r of rates)
        row.push(signed(f.added[r]?.p50 ?? Number.NaN), signed(f.added[r]?.p99 ?? Number.NaN));
      row.push(f.peakRssMiB === null ? "–" : f0(f.peakRssMiB), problems(f));
      return row;
    });
  return markdownTable(head, rows);
}

/** The streamed table: req/s, time to first byte and its difference to direct, whole-stream latency. */
export function streamTable(figures: readonly SetupFigures[], rate: number): string {
  const head = [
    "setup (SSE)",
    "req/s @50c (min–max)",
    "TTFB p50",
    "TTFB p99",
    "+TTFB p50",
    "+TTFB p99",
    "stream p50",
    "stream p99",
    "peak RSS MiB",
    "errors",
  ];
  const rows = figures
    .filter((f) => f.stream)
    .map((f) => [
      f.name,
      rps(f.rps),
      f3(f.ttfb[rate]?.p50 ?? Number.NaN),
      f3(f.ttfb[rate]?.p99 ?? Number.NaN),
      signed(f.ttfbAdded[rate]?.p50 ?? Number.NaN),
      signed(f.ttfbAdded[rate]?.p99 ?? Number.NaN),
      f3(f.latency[rate]?.p50 ?? Number.NaN),
      f3(f.latency[rate]?.p99 ?? Number.NaN),
      f.peakRssMiB === null ? "–" : f0(f.peakRssMiB),
      problems(f),
    ]);
  return markdownTable(head, rows);
}

/** keygate ÷ reference: req/s, and added p50 (streamed: added TTFB p50) at each rate. */
export function ratioTable(list: readonly Ratio[], rates: readonly number[]): string {
  const head = ["keygate ÷ reference", "req/s"];
  for (const r of rates) head.push(`added p50 @${r}`);
  const rows = list.map((x) => {
    const row = [`${x.keygate} ÷ ${x.against}`, ratio(x.rps)];
    for (const r of rates) row.push(ratio(x.addedP50[r] ?? Number.NaN));
    return row;
  });
  return markdownTable(head, rows);
}
