/**
 * Simulated users for the load test: each one loops over a weighted mix of
 * ingress and egress calls with a think time, through shared undici Pools, and
 * every outcome is classified: 2xx, an intended 429 (a keygate quota answer,
 * marked by `x-keygate-error`), or an error (anything else, including a 429
 * keygate did not mark as its own).
 */
import { hrtime } from "node:process";
import type { Pool } from "undici";
import { chatRequest } from "./payloads.ts";
import { Samples } from "./stats.ts";

export type Action = "ingress-get" | "ingress-post" | "egress" | "egress-sse";
export const ACTIONS: readonly Action[] = ["ingress-get", "ingress-post", "egress", "egress-sse"];

/** Relative weights of the actions a user picks from. */
export const MIX: Readonly<Record<Action, number>> = {
  "ingress-get": 3,
  "ingress-post": 2,
  egress: 3,
  "egress-sse": 2,
};

export interface ActionTally {
  ok: number;
  limited: number;
  errors: number;
  latencyMs: Samples;
  /** Why requests failed, by reason, with counts. */
  reasons: Map<string, number>;
  /** Intended 429s by the limit named in their `RateLimit` header. */
  limitedBy: Map<string, number>;
}

export interface Tallies {
  readonly byAction: Map<Action, ActionTally>;
  /** All latencies, ms, in completion order, with their completion time (s since start) for interval views. */
  readonly timeline: { t: number; ms: number }[];
  /** Intended 429s that hit users with a normal think time (the limits should spare them). */
  normalLimited: number;
}

export function newTallies(): Tallies {
  return {
    byAction: new Map(
      ACTIONS.map((a) => [
        a,
        { ok: 0, limited: 0, errors: 0, latencyMs: new Samples(), reasons: new Map(), limitedBy: new Map() },
      ]),
    ),
    timeline: [],
    normalLimited: 0,
  };
}

export interface UserPools {
  readonly ingress: Pool;
  readonly egress: Pool;
}

const PLAIN = chatRequest(false);
const STREAM = chatRequest(true);
const TOTAL_WEIGHT = ACTIONS.reduce((n, a) => n + MIX[a], 0);

function pick(): Action {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const a of ACTIONS) {
    r -= MIX[a];
    if (r < 0) return a;
  }
  return "ingress-get";
}

/** One request of `action` for the user holding `token`; records its outcome (`greedy`: a user expected to hit limits). */
async function once(
  action: Action,
  token: string,
  pools: UserPools,
  tallies: Tallies,
  t0: bigint,
  greedy: boolean,
): Promise<void> {
  const egress = action === "egress" || action === "egress-sse";
  const pool = egress ? pools.egress : pools.ingress;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let body: Buffer | null = null;
  if (action !== "ingress-get") {
    headers["content-type"] = "application/json";
    body = action === "egress-sse" ? STREAM : PLAIN;
  }
  if (action === "egress-sse") headers["x-mock-gap-ms"] = "2";
  const path = egress ? "/openai/chat/completions" : action === "ingress-get" ? "/api/items" : "/api/chat";
  const tally = tallies.byAction.get(action)!;
  const start = hrtime.bigint();
  try {
    const res = await pool.request({ method: body ? "POST" : "GET", path, headers, body });
    await res.body.dump({ limit: Number.POSITIVE_INFINITY });
    const ms = Number(hrtime.bigint() - start) / 1e6;
    if (res.statusCode >= 200 && res.statusCode < 300) tally.ok++;
    else if (res.statusCode === 429 && res.headers["x-keygate-error"] !== undefined) {
      tally.limited++;
      if (!greedy) tallies.normalLimited++;
      const limit = /^"([^"]+)"/.exec(String(res.headers["ratelimit"] ?? ""))?.[1] ?? "(unnamed)";
      tally.limitedBy.set(limit, (tally.limitedBy.get(limit) ?? 0) + 1);
    } else {
      tally.errors++;
      const reason = `${res.statusCode} ${String(res.headers["x-keygate-error"] ?? "")}`.trim();
      tally.reasons.set(reason, (tally.reasons.get(reason) ?? 0) + 1);
    }
    tally.latencyMs.push(ms);
    tallies.timeline.push({ t: Number(hrtime.bigint() - t0) / 1e9, ms });
  } catch (err) {
    tally.errors++;
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    tally.reasons.set(reason, (tally.reasons.get(reason) ?? 0) + 1);
  }
}

/**
 * Runs one user until `until` (hrtime ns): pick an action, send it, think for
 * `thinkMs` (a [min, max) range in ms; [0, 0] sends back to back).
 */
export async function simulateUser(
  token: string,
  pools: UserPools,
  tallies: Tallies,
  t0: bigint,
  until: bigint,
  thinkMs: readonly [number, number],
): Promise<void> {
  while (hrtime.bigint() < until) {
    await once(pick(), token, pools, tallies, t0, thinkMs[1] < 100);
    const think = thinkMs[0] + Math.random() * (thinkMs[1] - thinkMs[0]);
    if (think > 0) await new Promise((r) => setTimeout(r, think));
  }
}
