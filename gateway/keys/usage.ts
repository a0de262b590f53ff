import type { CompiledPolicy } from "../../policies/types.ts";
import type { Identity } from "../auth/verifier.ts";
import type { QuotaService } from "../limits/quota-service.ts";

/**
 * `GET /_keygate/usage`: the caller's standing against every limit that
 * can apply to them (all scopes, filters ignored), without consuming.
 * Shadow limits are not reported, as in the RateLimit headers.
 */
export async function usageReport(
  policy: CompiledPolicy,
  quotas: QuotaService,
  identity: Identity,
  ip: string,
) {
  const limits = policy.limits.filter((limit) => !limit.shadow && limit.per !== "ip");
  const entries = await quotas.peek(limits, { user: identity.user, tier: identity.tier, ip });
  return { user: identity.user, tier: identity.tier ?? null, limits: entries };
}
