import type { Context } from "hono";
import type { CompiledLimit } from "../../policies/types.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayEnv } from "../http/context.ts";
import { type Decision, type QuotaService, rateLimitError } from "../limits/quota-service.ts";

/**
 * Runs `work` (the rest of the request) and, if it fails with keygate's own
 * error after the limits passed, puts the passed limit's RateLimit headers on
 * that error too (SPEC §7: answers that passed a limit carry them).
 */
export async function withQuotaHeaders<T>(
  decision: Extract<Decision, { allowed: true }> | undefined,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (decision && err instanceof GatewayError) Object.assign(err.headers, decision.headers);
    throw err;
  }
}

/**
 * Runs the quota check for the limits that match this request and turns a
 * denial into the 429 error. Returns the passing decision (its headers go on
 * the answer; its ticket settles tokens and releases leases).
 */
export async function enforceLimits(
  c: Context<GatewayEnv>,
  quotas: QuotaService,
  limits: readonly CompiledLimit[],
  reserveTokens?: number,
): Promise<Extract<Decision, { allowed: true }> | undefined> {
  if (limits.length === 0) return undefined;
  const identity = c.get("identity");
  const decision = await quotas.check(
    limits,
    { user: identity?.user, tier: identity?.tier, ip: c.get("clientIp") },
    reserveTokens,
  );
  if (!decision.allowed) {
    c.get("log")["limit"] = decision.violated.join(",");
    throw rateLimitError(decision);
  }
  if (decision.shadowViolations.length > 0) c.get("log")["shadow"] = decision.shadowViolations.join(",");
  return decision;
}
