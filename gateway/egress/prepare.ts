import type { CompiledLimit, ProviderPolicy } from "../../policies/types.ts";
import { GatewayError } from "../errors.ts";
import { describeRequest, estimateTokens, type LlmRequestInfo } from "../providers/estimate.ts";
import { applyGuards, hasGuardRules } from "../providers/guards.ts";
import { ensureStreamUsage } from "../providers/stream-options.ts";

/** What the egress knows about an LLM call before sending it. */
export interface PreparedCall {
  /** The body to send (re-serialised only when a guard or stream option changed it). */
  readonly body: Buffer;
  /** Tokens to reserve on `tokens` limits; undefined when none apply. */
  readonly reserve: number | undefined;
  readonly info: LlmRequestInfo | undefined;
  /** The client did not ask for OpenAI's usage-only stream chunk: drop it again. */
  readonly dropUsageChunk: boolean;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new GatewayError(
      400,
      "bad-request",
      "Bad Request",
      "The request body must be JSON for this provider's guards and token limits.",
    );
  }
}

/**
 * Applies guards and computes the token reservation. The body is parsed
 * only when a content guard or a `tokens` limit needs it: plain proxying
 * pays no JSON cost.
 */
export function prepareCall(
  provider: ProviderPolicy,
  path: string,
  method: string,
  raw: Buffer,
  limits: readonly CompiledLimit[],
): PreparedCall {
  const tokenLimits = limits.some((limit) => limit.tokens !== undefined);
  const guarded = hasGuardRules(provider.guards);
  if ((!tokenLimits && !guarded) || method !== "POST" || raw.length === 0) {
    return { body: raw, reserve: tokenLimits ? 1 : undefined, info: undefined, dropUsageChunk: false };
  }
  let body = parseJson(raw);
  let changed = false;
  if (guarded) {
    const guardedBody = applyGuards(provider.api, path, body, provider.guards);
    body = guardedBody.body;
    changed = guardedBody.changed;
  }
  let dropUsageChunk = false;
  if (tokenLimits) {
    const withUsage = ensureStreamUsage(provider.api, body);
    body = withUsage.body;
    changed ||= withUsage.changed;
    dropUsageChunk = withUsage.dropUsageChunk;
  }
  const info = describeRequest(provider.api, path, body);
  return {
    body: changed ? Buffer.from(JSON.stringify(body)) : raw,
    reserve: tokenLimits ? estimateTokens(info) : undefined,
    info,
    dropUsageChunk,
  };
}
