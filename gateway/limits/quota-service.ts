/**
 * The quota service: checks every matching limit of a request in one
 * all-or-nothing store call, and turns a store outage into each limit's
 * `on_store_failure` (a local share, skip, or 503) — never into a 429.
 *
 * @example
 * const quotas = createQuotaService({ redis, replicas: 2, metrics, logger });
 * const d = await quotas.check(policy.limitsFor("app", method, path), { user, tier, ip });
 * if (!d.allowed) throw rateLimitError(d);
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { CompiledLimit } from "../../policies/types.ts";
import type { Metrics } from "../metrics.ts";
import type { RedisConnection } from "../store/redis.ts";
import { type Decision, denial, lowestRemaining, passingHeaders, type Ticket } from "./decision.ts";
import { createFailover } from "./failover.ts";
import { createMemoryStore } from "./memory-store.ts";
import { DEFAULT_LEASE_TTL_MS, planCounters, type Subject } from "./plan.ts";
import { createRedisStore } from "./redis-store.ts";
import { createNodeHealth, createStoreHealth } from "./store-health.ts";
import { type ActualTokens, createTickets } from "./tickets.ts";
import type { QuotaStore } from "./types.ts";

export { type Decision, type Denial, rateLimitError, type Ticket } from "./decision.ts";
export type { Subject } from "./plan.ts";
export type { ActualTokens } from "./tickets.ts";

/** One counter's state for GET /_keygate/usage. */
export interface UsageEntry {
  limit: string;
  kind: "requests" | "tokens" | "concurrent";
  /** The quota that applies to this caller (tier override, or the local share while degraded). */
  quota: number;
  remaining: number;
  /** Seconds until the window ends (a window not yet started: its full length); 0 for concurrency. */
  resetS: number;
}

export interface QuotaService {
  /** limits = policy.limitsFor(...). per:user limits are skipped when subject.user is undefined. reserveTokens applies to limits with `tokens`. */
  check(limits: readonly CompiledLimit[], subject: Subject, reserveTokens?: number): Promise<Decision>;
  /** Applies `actualTokens - reserved` to the reservation's own windows; never throws on store errors. */
  settle(ticket: Ticket, actual: ActualTokens): Promise<void>;
  /** Extends the ticket's concurrency leases (call while a stream is open); never throws. */
  renew(ticket: Ticket): Promise<void>;
  /** Gives back the ticket's concurrency leases; idempotent; never throws. */
  release(ticket: Ticket): Promise<void>;
  /** Current state of the caller's (non-shadow) counters, for GET /_keygate/usage. Does not consume. */
  peek(limits: readonly CompiledLimit[], subject: Subject): Promise<readonly UsageEntry[]>;
  /** For /readyz: "degraded" while the shared store is unreachable (on a cluster: while any master is). */
  ping(): Promise<"ok" | "degraded">;
  /** Drops local state. The Redis connection belongs to the caller and stays open. */
  close(): Promise<void>;
}

const KIND_LABEL = { r: "requests", t: "tokens", c: "concurrent" } as const;
const NO_SHADOW: readonly string[] = Object.freeze([]);

export function createQuotaService(deps: {
  redis: RedisConnection | undefined;
  replicas: number;
  metrics: Metrics;
  logger: Logger;
  /** Lifetime of an unrenewed concurrency lease; default 60 s. */
  leaseTtlMs?: number;
}): QuotaService {
  const { redis, replicas, metrics, logger } = deps;
  const leaseTtlMs = deps.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  if (!Number.isInteger(leaseTtlMs) || leaseTtlMs < 100) {
    throw new Error(`leaseTtlMs must be a whole number of ms ≥ 100, got ${leaseTtlMs}`);
  }
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new Error(`KEYGATE_REPLICAS must be a whole number ≥ 1, got ${replicas}`);
  }
  // A cluster is healthy or not per master (a partial outage), a single Redis as a whole.
  const nodes = redis?.isCluster ? createNodeHealth({ metrics, logger }) : undefined;
  const shared: QuotaStore = redis ? createRedisStore(redis, nodes) : createMemoryStore();
  // The `local` insurance: each instance's share while Redis (or a master) is down.
  const insurance = redis ? createMemoryStore() : undefined;
  const health = nodes ? undefined : createStoreHealth({ probe: () => shared.ping(), metrics, logger });
  const tickets = createTickets({ health, logger, shared, insurance, leaseTtlMs });
  const failover = createFailover({ shared, insurance, health, replicas });
  const idPrefix = randomBytes(6).toString("base64url");
  let seq = 0;

  return {
    async check(limits, subject, reserveTokens = 0) {
      if (!Number.isSafeInteger(reserveTokens) || reserveTokens < 0) {
        throw new RangeError(`reserveTokens must be a whole number ≥ 0, got ${reserveTokens}`);
      }
      const planned = planCounters(limits, subject, reserveTokens, leaseTtlMs);
      const leaseId = `${idPrefix}.${++seq}`;
      const { counters, local, result } = await failover.take(planned, leaseId);
      const { states } = result;
      if (!result.allowed) {
        const denied = denial(counters, states);
        counters.forEach((c, i) => {
          if (c.enforce && !states[i]!.fits)
            metrics.rejections.inc({ limit: c.limit, kind: KIND_LABEL[c.kind] });
        });
        return denied;
      }
      let shadowViolations = NO_SHADOW;
      counters.forEach((c, i) => {
        if (c.enforce || states[i]!.fits) return;
        metrics.shadowRejections.inc({ limit: c.limit, kind: KIND_LABEL[c.kind] });
        if (!shadowViolations.includes(c.limit)) shadowViolations = [...shadowViolations, c.limit];
      });
      return {
        allowed: true,
        headers: passingHeaders(counters, states),
        remaining: lowestRemaining(counters, states),
        ticket: tickets.issue(leaseId, counters, states, local),
        shadowViolations,
      };
    },
    settle: tickets.settle,
    renew: tickets.renew,
    release: tickets.release,
    async peek(limits, subject) {
      const planned = planCounters(limits, subject, 0, leaseTtlMs).filter((c) => c.enforce);
      const { counters, result: states } = await failover.peek(planned);
      return counters.map((c, i) => {
        const s = states[i]!;
        return {
          limit: c.limit,
          kind: KIND_LABEL[c.kind],
          quota: c.quota,
          remaining: Math.max(0, c.quota - s.used),
          resetS: c.kind === "c" ? 0 : Math.max(1, Math.ceil(s.resetMs / 1000)),
        };
      });
    },
    async ping() {
      if (!redis) return "ok";
      try {
        await shared.ping();
        health?.succeeded();
        return "ok";
      } catch (err) {
        // On a cluster the store has recorded which masters failed.
        health?.failed("ping", err);
        return "degraded";
      }
    },
    async close() {
      await insurance?.close();
      await shared.close();
    },
  };
}
