/**
 * The two load shapes the bench measures with, on undici Pools:
 * - closed loop: N connections each sending back to back (the req/s ceiling);
 * - open loop: requests issued on a fixed schedule whatever the completions,
 *   latency counted from the *scheduled* send time, so a stalled server is
 *   charged for the requests it delayed (no coordinated omission).
 * Times come from `process.hrtime.bigint()` and are kept in microseconds.
 */
import { hrtime } from "node:process";
import { Pool } from "undici";
import { Samples } from "./stats.ts";

/** What one request of a run looks like. Bodies and headers are built once per run. */
export interface LoadTarget {
  readonly origin: string;
  readonly path: string;
  readonly method: "GET" | "POST";
  readonly body: string | null;
  /** Extra headers as a flat `[name, value, …]` list. */
  readonly headers: readonly string[];
}

export interface RunResult {
  readonly sent: number;
  readonly ok: number;
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly firstError?: string;
  readonly seconds: number;
  /** 2xx answers per second over the measured window. */
  readonly rps: number;
  /** Full-answer latency, µs (open loop: from the scheduled send time). */
  readonly latencyUs: number[];
  /** First body byte, µs, same origin as `latencyUs`. */
  readonly ttfbUs: number[];
  /** Open loop: how late the generator actually sent, µs (its own floor). */
  readonly sendLagUs: number[];
}

const us = (from: bigint, to: bigint) => Number(to - from) / 1_000;

/** One prebuilt header list per user token, rotated per request so no cache sees one user. */
function headerSets(target: LoadTarget, tokens: readonly string[]): string[][] {
  const base =
    target.body === null ? [...target.headers] : ["content-type", "application/json", ...target.headers];
  if (tokens.length === 0) return [base];
  return tokens.map((t) => [...base, "authorization", `Bearer ${t}`]);
}

class Tally {
  sent = 0;
  ok = 0;
  errors = 0;
  firstError: string | undefined;
  statuses: Record<string, number> = {};
  latency = new Samples();
  ttfb = new Samples();
  lag = new Samples();

  /**
   * Sends one request; resolves after the whole body, never rejects. Uses
   * undici's raw `dispatch` handler rather than `request()`: no Readable per
   * answer, so the generator costs about half as much CPU per request and
   * stays out of the way of fast setups (direct, nginx).
   */
  one(pool: Pool, target: LoadTarget, body: Buffer | null, headers: string[], from: bigint, record: boolean) {
    this.sent++;
    return new Promise<void>((resolve) => {
      let status = 0;
      let first = 0n;
      pool.dispatch(
        { method: target.method, path: target.path, headers, body },
        {
          onRequestStart: () => {},
          onResponseStart: (_c, statusCode) => {
            status = statusCode;
          },
          onResponseData: () => {
            if (first === 0n) first = hrtime.bigint();
          },
          onResponseEnd: () => {
            const end = hrtime.bigint();
            if (record) {
              this.statuses[status] = (this.statuses[status] ?? 0) + 1;
              if (status >= 200 && status < 300) this.ok++;
              this.latency.push(us(from, end));
              this.ttfb.push(us(from, first === 0n ? end : first));
            }
            resolve();
          },
          onResponseError: (_c, err) => {
            if (record) {
              this.errors++;
              this.firstError ??= `${err.name}: ${err.message}`;
            }
            resolve();
          },
        },
      );
    });
  }

  result(seconds: number): RunResult {
    return {
      sent: this.sent,
      ok: this.ok,
      statuses: this.statuses,
      errors: this.errors,
      ...(this.firstError === undefined ? {} : { firstError: this.firstError }),
      seconds,
      rps: this.ok / seconds,
      latencyUs: this.latency.toArray(),
      ttfbUs: this.ttfb.toArray(),
      sendLagUs: this.lag.toArray(),
    };
  }
}

/**
 * `connections` workers send back to back for `rampMs + durationMs`; only
 * answers completing after the ramp are counted.
 */
export async function closedLoop(
  target: LoadTarget,
  tokens: readonly string[],
  opts: { connections: number; durationMs: number; rampMs: number },
): Promise<RunResult> {
  const pool = new Pool(target.origin, { connections: opts.connections, pipelining: 1 });
  const sets = headerSets(target, tokens);
  const body = target.body === null ? null : Buffer.from(target.body);
  const tally = new Tally();
  const start = hrtime.bigint();
  const measureFrom = start + BigInt(opts.rampMs) * 1_000_000n;
  const end = measureFrom + BigInt(opts.durationMs) * 1_000_000n;
  let i = 0;
  const worker = async () => {
    for (let now = hrtime.bigint(); now < end; now = hrtime.bigint()) {
      await tally.one(pool, target, body, sets[i++ % sets.length]!, now, now >= measureFrom);
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
  await pool.close();
  return tally.result(opts.durationMs / 1_000);
}

/**
 * Sends `rate` requests per second for `durationMs` on a fixed schedule. Node
 * timers tick at ≥ 1 ms, so each tick sends every request already due; the
 * lateness this adds is measured (`sendLagUs`) and is the same for every setup.
 */
export async function openLoop(
  target: LoadTarget,
  tokens: readonly string[],
  opts: { rate: number; durationMs: number; connections: number },
): Promise<RunResult> {
  const pool = new Pool(target.origin, { connections: opts.connections, pipelining: 1 });
  const sets = headerSets(target, tokens);
  const body = target.body === null ? null : Buffer.from(target.body);
  const tally = new Tally();
  // Open the connections first so connect time is not charged to the first requests.
  await Promise.all(
    Array.from({ length: Math.min(opts.connections, 16) }, (_, k) =>
      tally.one(pool, target, body, sets[k % sets.length]!, 0n, false),
    ),
  );
  tally.sent = 0;

  const total = Math.round((opts.rate * opts.durationMs) / 1_000);
  const intervalNs = 1e9 / opts.rate;
  const start = hrtime.bigint() + 1_000_000n;
  const inflight: Promise<void>[] = [];
  let n = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = hrtime.bigint();
      for (; n < total; n++) {
        const due = start + BigInt(Math.round(n * intervalNs));
        if (due > now) break;
        tally.lag.push(us(due, now));
        inflight.push(tally.one(pool, target, body, sets[n % sets.length]!, due, true));
      }
      if (n >= total) return resolve();
      const waitMs = Number(start + BigInt(Math.round(n * intervalNs)) - hrtime.bigint()) / 1e6;
      setTimeout(tick, Math.max(0, Math.floor(waitMs)));
    };
    tick();
  });
  await Promise.all(inflight);
  await pool.close();
  return tally.result(opts.durationMs / 1_000);
}
