/** What a reload changed, by limit name, for the `policy reloaded` log line. */
import { limitRows } from "./describe.ts";
import type { CompiledLimit, CompiledPolicy } from "./types.ts";

export interface PolicyDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

// Every field, tier overrides included, as one comparable string.
const fingerprint = (limit: CompiledLimit) => JSON.stringify(limitRows(limit));

/**
 * Limits added, removed and changed (any field, tier overrides included) between two policies, in file order.
 * Example: `logger.info(diffPolicies(old, next), "policy reloaded")`.
 */
export function diffPolicies(prev: CompiledPolicy, next: CompiledPolicy): PolicyDiff {
  const before = new Map(prev.limits.map((l) => [l.name, fingerprint(l)]));
  const after = new Set(next.limits.map((l) => l.name));
  const diff: PolicyDiff = { added: [], removed: [], changed: [] };
  for (const limit of next.limits) {
    const old = before.get(limit.name);
    if (old === undefined) diff.added.push(limit.name);
    else if (old !== fingerprint(limit)) diff.changed.push(limit.name);
  }
  for (const limit of prev.limits) if (!after.has(limit.name)) diff.removed.push(limit.name);
  return diff;
}
