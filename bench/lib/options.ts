/**
 * `npm run bench` options, from flags or BENCH_* environment variables
 * (flags win). Checked once, before anything starts.
 */
import { parseArgs } from "node:util";

export interface BenchOptions {
  /** Measured seconds per run (each setup × load shape × repetition). */
  readonly durationS: number;
  /** Interleaved repetitions of every run. */
  readonly reps: number;
  /** Closed-loop warm-up seconds per setup before the first repetition. */
  readonly warmupS: number;
  /**
   * Closed-loop seconds sent to a setup right before each of its measured
   * runs, not counted: while other setups run it sits idle, V8 shrinks its
   * young generation and the first seconds back under load are slower.
   */
  readonly primeS: number;
  /** Distinct users (JWTs); at least 1,000 so per-user caches cannot cheat. */
  readonly users: number;
  readonly connections: number;
  /** Open-loop rates, requests per second. */
  readonly rates: readonly number[];
  /** Only these setups (by name); empty: all. */
  readonly only: readonly string[];
  /** Where the JSON goes; default `bench/results/<timestamp>.json`. */
  readonly out?: string;
  /** Share (0–1) of the machine other processes may use during a run before it is retried. */
  readonly maxForeign: number;
  readonly quick: boolean;
}

export const USAGE = `usage: node bench/run.ts [--quick] [--duration S] [--reps N] [--warmup S] [--prime S]
       [--users N] [--connections N] [--rates 500,2000] [--only direct,bare-proxy,…] [--out FILE] [--max-foreign 0.1]
env: BENCH_DURATION, BENCH_REPS, BENCH_WARMUP, BENCH_PRIME, BENCH_USERS, BENCH_MAX_FOREIGN (flags win)`;

function positive(
  name: string,
  text: string | undefined,
  fallback: number,
  integer: boolean,
  min = 0,
): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= min || (integer && !Number.isInteger(n))) {
    throw new Error(
      `${name} must be a ${integer ? "whole " : ""}number above ${min}, got "${text}"\n${USAGE}`,
    );
  }
  return n;
}

/** Parses argv (without node and script) and env into options; throws with the usage on a bad value. */
export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      duration: { type: "string" },
      reps: { type: "string" },
      warmup: { type: "string" },
      prime: { type: "string" },
      users: { type: "string" },
      connections: { type: "string" },
      rates: { type: "string" },
      only: { type: "string" },
      out: { type: "string" },
      "max-foreign": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const quick = values.quick;
  const rates = (values.rates ?? "500,2000").split(",").map((r) => positive("--rates", r.trim(), 0, true));
  const out = values.out;
  return {
    durationS: positive("--duration", values.duration ?? env["BENCH_DURATION"], quick ? 1 : 3, false),
    reps: positive("--reps", values.reps ?? env["BENCH_REPS"], quick ? 1 : 3, true),
    warmupS: positive("--warmup", values.warmup ?? env["BENCH_WARMUP"], quick ? 0.5 : 5, false),
    primeS: positive("--prime", values.prime ?? env["BENCH_PRIME"], quick ? 0.3 : 1, false),
    users: positive("--users", values.users ?? env["BENCH_USERS"], 1_000, true),
    connections: positive("--connections", values.connections, 50, true),
    rates,
    only: values.only ? values.only.split(",").map((s) => s.trim()) : [],
    ...(out === undefined ? {} : { out }),
    maxForeign: positive("--max-foreign", values["max-foreign"] ?? env["BENCH_MAX_FOREIGN"], 0.1, false),
    quick,
  };
}
