/**
 * Checks that span several fields: limit scopes and names, tier references,
 * algorithm families. They read the raw (expanded, not yet validated) file
 * defensively, so they run and report even when zod found other problems.
 */
import type { PolicyIssue } from "./issue.ts";
import { isRecord, providerDefaults, providerNames } from "./providers-defaults.ts";

const FIXED_SCOPES = ["app", "keys", "llm"];

/** Every cross-field problem in `raw`; empty when there is none. */
export function checkSemantics(raw: unknown): PolicyIssue[] {
  if (!isRecord(raw)) return [];
  const issues: PolicyIssue[] = [];
  checkAuth(raw["auth"], issues);
  checkProviders(raw["providers"], issues);
  const limits = checkLimits(raw["limits"], providerNames(raw), issues);
  checkTiers(raw["tiers"], limits, issues);
  return issues;
}

function checkAuth(auth: unknown, issues: PolicyIssue[]): void {
  if (!isRecord(auth) || !Array.isArray(auth["algorithms"])) return;
  const algs = auth["algorithms"].filter(
    (a): a is string => typeof a === "string" && a.toLowerCase() !== "none",
  );
  const hmac = algs.find((a) => a.startsWith("HS"));
  const asym = algs.find((a) => !a.startsWith("HS"));
  if (hmac && auth["secret_env"] === undefined)
    issues.push({
      path: ["auth", "secret_env"],
      at: "parent",
      message: `is required with ${hmac}, expected the name of the env var holding the HMAC secret`,
    });
  if (asym && auth["jwks_url"] === undefined)
    issues.push({
      path: ["auth", "jwks_url"],
      at: "parent",
      message: `is required with ${asym}, expected the https URL of the issuer's JWKS`,
    });
}

function checkProviders(providers: unknown, issues: PolicyIssue[]): void {
  if (!isRecord(providers)) return;
  for (const [name, p] of Object.entries(providers)) {
    const settings = isRecord(p) ? p : {};
    if (providerDefaults(name).baseUrl === undefined && settings["base_url"] === undefined)
      issues.push({
        path: ["providers", name, "base_url"],
        at: isRecord(p) ? "parent" : "value",
        message: `is required for a provider that is not openai, anthropic or google, expected its API base URL`,
      });
    const guards = settings["guards"];
    const patterns =
      isRecord(guards) && Array.isArray(guards["deny_patterns"]) ? guards["deny_patterns"] : [];
    const seen = new Set<unknown>();
    patterns.forEach((dp, i) => {
      const n = isRecord(dp) ? dp["name"] : undefined;
      if (typeof n === "string" && seen.has(n))
        issues.push({
          path: ["providers", name, "guards", "deny_patterns", i, "name"],
          message: `"${n}" is used twice, expected unique deny pattern names`,
        });
      seen.add(n);
    });
  }
}

/** Checks each limit; returns the valid-looking limits by name for the tier checks. */
function checkLimits(
  limits: unknown,
  providers: string[],
  issues: PolicyIssue[],
): Map<string, Record<string, unknown>> {
  const byName = new Map<string, Record<string, unknown>>();
  if (!Array.isArray(limits)) return byName;
  const scopes = [...FIXED_SCOPES, ...providers];
  limits.forEach((limit, i) => {
    if (!isRecord(limit)) return;
    const at = (field: string) => ["limits", i, field];
    const { name, scope, per } = limit;
    if (typeof name === "string") {
      if (byName.has(name))
        issues.push({
          path: at("name"),
          message: `"${name}" is already used by another limit, expected unique names`,
        });
      else byName.set(name, limit);
    }
    if (typeof scope === "string" && !scopes.includes(scope))
      issues.push({
        path: at("scope"),
        message: `unknown scope "${scope}", expected one of: ${scopes.join(", ")}`,
      });
    const llmScope = typeof scope === "string" && scope !== "app" && scope !== "keys";
    if (llmScope && per === "ip")
      issues.push({
        path: at("per"),
        message: `ip is not allowed on scope ${scope} (LLM calls arrive on loopback), expected user or global`,
      });
    for (const field of ["tokens", "concurrent"])
      if (!llmScope && typeof scope === "string" && limit[field] !== undefined)
        issues.push({
          path: at(field),
          message: `is not allowed on scope ${scope}, expected a provider or llm scope`,
        });
    if (limit["rate"] === undefined && limit["tokens"] === undefined && limit["concurrent"] === undefined)
      issues.push({
        path: ["limits", i],
        message: "has no rate, tokens or concurrent, expected at least one of them",
      });
    if (limit["count"] !== undefined && limit["tokens"] === undefined)
      issues.push({
        path: at("count"),
        message: "is set but the limit has no tokens, expected tokens: N/DURATION",
      });
  });
  return byName;
}

function checkTiers(
  tiers: unknown,
  limits: Map<string, Record<string, unknown>>,
  issues: PolicyIssue[],
): void {
  if (!isRecord(tiers)) return;
  for (const [tier, overrides] of Object.entries(tiers)) {
    if (!isRecord(overrides)) continue;
    for (const [limitName, override] of Object.entries(overrides)) {
      const limit = limits.get(limitName);
      if (!limit) {
        const known = [...limits.keys()].join(", ") || "(no limits defined)";
        issues.push({
          path: ["tiers", tier, limitName],
          at: "key",
          message: `unknown limit "${limitName}", expected one of: ${known}`,
        });
        continue;
      }
      const fields = typeof override === "string" ? { rate: override } : isRecord(override) ? override : {};
      for (const field of ["rate", "tokens", "concurrent"])
        if (fields[field] !== undefined && limit[field] === undefined)
          issues.push({
            path:
              typeof override === "string" ? ["tiers", tier, limitName] : ["tiers", tier, limitName, field],
            message: `overrides ${field} but limit ${limitName} has no ${field}, expected only fields the limit sets`,
          });
    }
  }
}
