/**
 * `npm run bench`: one bounded, loopback-only run that measures side by side
 * direct, a bare Hono + undici proxy, nginx and keygate (ingress and egress,
 * plain and streamed), and prints req/s, open-loop p50/p99, added latency,
 * streamed TTFB, peak RSS and the keygate ratios. A report, not a test.
 *
 * Method (docs/performance.md): proxies pinned to core 0, generator, mock and
 * Redis to the other cores; a warm-up per setup and a short uncounted prime
 * right before each of its runs; every run repeated `reps`
 * times, interleaved across setups in a rotated order; a run disturbed by
 * other processes on the machine is retried and the disturbance reported.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { probeContention } from "./lib/contention.ts";
import { mintUsers } from "./lib/jwts.ts";
import type { LoadTarget, RunResult } from "./lib/load.ts";
import { type LoadgenClient, startLoadgen } from "./lib/loadgen-client.ts";
import { type BenchOptions, parseBenchOptions } from "./lib/options.ts";
import { chatRequest } from "./lib/payloads.ts";
import { peakRssMiB, pinningPlan } from "./lib/procs.ts";
import { ratios, summarise, withAdded } from "./lib/report.ts";
import { type Setup, startFleet } from "./lib/setups.ts";
import { median } from "./lib/stats.ts";
import { plainTable, ratioTable, streamTable } from "./lib/table.ts";
import type { LoadJob } from "./loadgen.ts";

/** Spacing of SSE chunks in the open-loop (TTFB) runs, so a buffering proxy shows. */
const STREAM_GAP_MS = 2;
/** A run is retried (at most this often) when other processes used more than `maxForeign` of the machine… */
const RETRIES = 2;
/** …as long as all retries together stay within this much extra time, so the bench stays bounded. */
const RETRY_BUDGET_MS = 60_000;

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const log = (line: string) => process.stderr.write(`${line}\n`);

function target(s: Setup, gapMs: number): LoadTarget {
  return {
    origin: s.origin,
    path: s.path,
    method: "POST",
    body: chatRequest(s.stream).toString(),
    headers: s.stream ? ["x-mock-gap-ms", String(gapMs)] : [],
  };
}

/** Runs `job`, retrying while the machine was busy with other work; keeps the least disturbed attempt. */
let retryBudgetMs = RETRY_BUDGET_MS;
let retried = 0;
async function measured(loadgen: LoadgenClient, job: LoadJob, pids: () => number[], opts: BenchOptions) {
  let best: { result: RunResult; foreign: number; retries: number } | undefined;
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    const started = Date.now();
    const probe = probeContention(pids());
    const result = await loadgen.run(job);
    const foreign = probe.foreignShare();
    if (attempt > 0) {
      retryBudgetMs -= Date.now() - started;
      retried++;
    }
    if (!best || foreign < best.foreign) best = { result, foreign, retries: attempt };
    if (!(foreign > opts.maxForeign) || retryBudgetMs <= 0) break;
  }
  return best!;
}

async function main() {
  const opts = parseBenchOptions(process.argv.slice(2), process.env);
  const pin = pinningPlan();
  log(
    pin
      ? `pinning: proxies on core ${pin.proxy}; generator, mock, Redis on ${pin.rest}`
      : "pinning: not possible here, unpinned",
  );
  const users = await mintUsers(opts.users);
  const fleet = await startFleet(root, users, pin);
  const loadgen = startLoadgen(root, pin?.rest);
  const pids = () => [process.pid, loadgen.pid, ...fleet.pids()];
  // Ctrl-C or a CI timeout must not leave proxies, nginx or Redis behind.
  const abort = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping every process the bench started`);
    void Promise.all([loadgen.close(), fleet.shutdown()]).finally(() => process.exit(130));
  };
  process.once("SIGINT", abort).once("SIGTERM", abort);
  try {
    for (const note of fleet.notes) log(`note: ${note}`);
    const setups = fleet.setups.filter((s) => opts.only.length === 0 || opts.only.includes(s.name));
    await loadgen.tokens(users.tokens);
    const durationMs = opts.durationS * 1_000;
    const closed = (s: Setup, ms: number): LoadJob => ({
      kind: "closed",
      target: target(s, 0),
      connections: opts.connections,
      durationMs: ms,
      rampMs: 300,
    });
    for (const s of setups) {
      const w = await loadgen.run(closed(s, opts.warmupS * 1_000));
      log(
        `warm-up ${s.name}: ${Math.round(w.rps)} req/s ${JSON.stringify(w.statuses)} ${w.firstError ?? ""}`,
      );
    }
    const closedRuns = new Map<string, RunResult[]>(setups.map((s) => [s.name, []]));
    const openRuns = new Map<string, Map<number, RunResult[]>>(setups.map((s) => [s.name, new Map()]));
    const foreign = new Map<string, number[]>(setups.map((s) => [s.name, []]));
    for (let rep = 0; rep < opts.reps; rep++) {
      // Rotate the order each repetition so no setup always runs first or after the same neighbour.
      const order = setups.map((_, i) => setups[(i + rep) % setups.length]!);
      for (const s of order) {
        await loadgen.run(closed(s, opts.primeS * 1_000));
        const c = await measured(loadgen, closed(s, durationMs), pids, opts);
        closedRuns.get(s.name)!.push(c.result);
        foreign.get(s.name)!.push(c.foreign);
        const line = [`rep ${rep + 1}/${opts.reps} ${s.name}: ${Math.round(c.result.rps)} req/s`];
        for (const rate of s.stream ? opts.rates.slice(0, 1) : opts.rates) {
          const job: LoadJob = {
            kind: "open",
            target: target(s, STREAM_GAP_MS),
            rate,
            durationMs,
            connections: 64,
          };
          const o = await measured(loadgen, job, pids, opts);
          const byRate = openRuns.get(s.name)!;
          byRate.set(rate, [...(byRate.get(rate) ?? []), o.result]);
          foreign.get(s.name)!.push(o.foreign);
          line.push(`${rate}/s: ${o.result.ok} ok`);
        }
        log(`${line.join(", ")}; foreign CPU ${(100 * c.foreign).toFixed(0)}%`);
      }
    }
    const figures = withAdded(
      setups.map((s) =>
        summarise(
          s,
          closedRuns.get(s.name)!,
          openRuns.get(s.name)!,
          s.pid === undefined ? null : peakRssMiB(s.pid),
        ),
      ),
    );
    const ratioList = ratios(figures);
    const busy = setups.map((s) => ({ setup: s.name, foreignCpuMedian: median(foreign.get(s.name)!) }));
    const worst = Math.max(...busy.map((b) => b.foreignCpuMedian));
    const date = new Date().toISOString();
    const text = [
      `keygate bench — ${date} — ${cpus().length}× ${cpus()[0]?.model ?? "cpu"}, node ${process.version}`,
      `${opts.reps} interleaved reps × ${opts.durationS}s per run; ${opts.users} users; ${opts.connections} connections for req/s;`,
      "latencies in ms, open loop, from the scheduled send time; + columns are differences to direct",
      "",
      plainTable(figures, opts.rates),
      "",
      streamTable(figures, opts.rates[0]!),
      "",
      ratioTable(ratioList, opts.rates),
      "",
      `other processes used a median ${(100 * median(busy.map((b) => b.foreignCpuMedian))).toFixed(1)}% of the machine during runs (worst setup ${(100 * worst).toFixed(1)}%; ${retried} runs retried)${worst > opts.maxForeign ? " — figures are disturbed; rerun on a quiet machine" : ""}`,
      ...fleet.notes.map((n) => `note: ${n}`),
    ].join("\n");
    process.stdout.write(`${text}\n`);
    const out = opts.out ?? join(root, "bench/results", `${date.replace(/[:.]/g, "-")}.json`);
    mkdirSync(dirname(out), { recursive: true });
    const json = {
      date,
      command: ["node", ...process.argv.slice(1)].join(" "),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      pinning: pin,
      options: opts,
      figures,
      ratios: ratioList,
      foreignCpu: busy,
      retriedRuns: retried,
      notes: fleet.notes,
      table: text,
    };
    writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
    log(`results: ${out}`);
  } finally {
    await loadgen.close();
    await fleet.shutdown();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
