import type { TokenKind } from "../../../policies/types.ts";
import type { Usage } from "./tally.ts";

/**
 * Tokens to charge a token limit for one call, summing the usage fields its
 * `count` names (each at most once). `input` excludes cache reads, so
 * `[input, cached]` is all input and never double counts.
 *
 * @example countTokens({ input: 900, output: 120, cached: 100 }, ["input", "output"]) // 1020
 */
export function countTokens(usage: Usage, kinds: readonly TokenKind[]): number {
  let total = 0;
  if (kinds.includes("input")) total += usage.input;
  if (kinds.includes("output")) total += usage.output;
  if (kinds.includes("cached")) total += usage.cached;
  return total;
}
