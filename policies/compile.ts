/**
 * Compiles a validated policy file into the `CompiledPolicy` the gateway reads
 * on every request: rates parsed, globs and regexes compiled, per-scope limit
 * lists built once. Nothing here runs per request except `matches`,
 * `isPublic` and `limitsFor`, which only test precompiled matchers.
 */
import { isIPv4 } from "node:net";
import { compileProviders } from "./compile-providers.ts";
import { compilePathGlobs } from "./glob.ts";
import type { PolicyFile } from "./schema.ts";
import type { AuthPolicy, CompiledLimit, CompiledPolicy, LimitOverride, TokenKind } from "./types.ts";
import { parseDuration, parseRate } from "./units.ts";

type LimitFile = PolicyFile["limits"][number];
type TierFile = PolicyFile["tiers"][string][string];

const NONE: readonly CompiledLimit[] = Object.freeze([]);

function compileAuth(a: PolicyFile["auth"]): AuthPolicy {
  const publicRe = a.public.length > 0 ? compilePathGlobs(a.public) : undefined;
  return {
    algorithms: a.algorithms,
    secretEnv:
      a.secret_env === undefined ? [] : typeof a.secret_env === "string" ? [a.secret_env] : a.secret_env,
    ...(a.jwks_url === undefined ? {} : { jwksUrl: a.jwks_url }),
    ...(a.issuer === undefined ? {} : { issuer: a.issuer }),
    ...(a.audience === undefined ? {} : { audience: a.audience }),
    clockToleranceS: parseDuration(a.clock_tolerance) / 1000,
    userClaim: a.user_claim,
    ...(a.tier_claim === undefined ? {} : { tierClaim: a.tier_claim }),
    isPublic: publicRe ? (path) => publicRe.test(path) : () => false,
  };
}

function compileOverride(o: TierFile): LimitOverride {
  if (typeof o === "string") return { rate: parseRate(o) };
  return {
    ...(o.rate === undefined ? {} : { rate: parseRate(o.rate) }),
    ...(o.tokens === undefined ? {} : { tokens: parseRate(o.tokens) }),
    ...(o.concurrent === undefined ? {} : { concurrent: o.concurrent }),
  };
}

function compileLimit(l: LimitFile, tiers: PolicyFile["tiers"]): CompiledLimit {
  const pathRe = l.paths ? compilePathGlobs(l.paths) : undefined;
  const methods = l.methods ? new Set(l.methods.map((m) => m.toUpperCase())) : undefined;
  const overrides = new Map<string, LimitOverride>();
  for (const [tier, byLimit] of Object.entries(tiers)) {
    const o = byLimit[l.name];
    if (o !== undefined) overrides.set(tier, compileOverride(o));
  }
  return {
    name: l.name,
    scope: l.scope,
    per: l.per,
    ...(l.rate === undefined ? {} : { rate: parseRate(l.rate) }),
    ...(l.tokens === undefined ? {} : { tokens: parseRate(l.tokens) }),
    count: l.count ? ([...new Set(l.count)] as TokenKind[]) : ["input", "output"],
    ...(l.concurrent === undefined ? {} : { concurrent: l.concurrent }),
    onStoreFailure: l.on_store_failure,
    shadow: l.shadow,
    tiers: overrides,
    // Methods arrive upper-case from Node's parser, so no case folding per request.
    ...(l.paths ? { paths: Object.freeze([...l.paths]) } : {}),
    ...(methods ? { methods: Object.freeze([...methods]) } : {}),
    matches: (method, path) => (!methods || methods.has(method)) && (!pathRe || pathRe.test(path)),
  };
}

/** Scope → its limits in file order; a provider's list includes the `llm` limits. */
function byScope(
  limits: readonly CompiledLimit[],
  providers: Iterable<string>,
): Map<string, readonly CompiledLimit[]> {
  const scopes = new Map<string, readonly CompiledLimit[]>();
  for (const scope of ["app", "keys", "llm"])
    scopes.set(scope, Object.freeze(limits.filter((l) => l.scope === scope)));
  for (const p of providers)
    scopes.set(p, Object.freeze(limits.filter((l) => l.scope === p || l.scope === "llm")));
  return scopes;
}

/** The `CompiledPolicy` for a validated file. `file` is absolute, `hash` the short sha256 of its bytes. */
export function compilePolicy(f: PolicyFile, file: string, hash: string): CompiledPolicy {
  const providers = compileProviders(f.providers);
  const limits = Object.freeze(f.limits.map((l) => compileLimit(l, f.tiers)));
  const scopes = byScope(limits, providers.keys());
  // Lists where no limit filters on path or method are returned as they are: no allocation per request.
  const filtered = new Set(f.limits.filter((l) => l.paths || l.methods).map((l) => l.name));
  const unfiltered = new Set(
    [...scopes].filter(([, ls]) => ls.every((l) => !filtered.has(l.name))).map(([s]) => s),
  );
  return {
    file,
    hash,
    auth: compileAuth(f.auth),
    // Single addresses become /32 or /128 so every consumer sees CIDRs only.
    trustProxies: Object.freeze(
      f.trust_proxies.map((c) => (c.includes("/") ? c : `${c}/${isIPv4(c) ? 32 : 128}`)),
    ),
    corsOrigins: new Set(f.cors.origins),
    upstreams: { app: f.upstreams.app },
    providers,
    limits,
    limitsFor(scope, method, path) {
      const list = scopes.get(scope);
      if (!list) return NONE;
      return unfiltered.has(scope) ? list : list.filter((l) => l.matches(method, path));
    },
  };
}
