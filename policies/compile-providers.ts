/** Builds the provider policies: built-in defaults filled in, regexes and globs compiled once. */
import { compileWildcards } from "./glob.ts";
import { providerDefaults, WELL_KNOWN_PROVIDERS } from "./providers-defaults.ts";
import { EMPTY_PROVIDER, type PolicyFile, type ProviderFile } from "./schema.ts";
import type { DeniableFeature, Guards, ProviderPolicy } from "./types.ts";
import { parseDuration, parseSize } from "./units.ts";

const DEFAULT_MAX_BODY = 4 * 1024 * 1024;

type GuardsFile = NonNullable<ProviderFile["guards"]>;

function compileGuards(g: GuardsFile | undefined): Guards {
  return {
    maxBodyBytes: g?.max_body === undefined ? DEFAULT_MAX_BODY : parseSize(g.max_body),
    ...(g?.max_messages === undefined ? {} : { maxMessages: g.max_messages }),
    ...(g?.max_tokens === undefined
      ? {}
      : { maxTokens: { limit: g.max_tokens.limit, action: g.max_tokens.action } }),
    ...(g?.models === undefined ? {} : { modelAllowed: compileWildcards(g.models) }),
    deny: new Set<DeniableFeature>(g?.deny ?? []),
    denyPatterns: (g?.deny_patterns ?? []).map((p) => ({ name: p.name, regex: new RegExp(p.regex) })),
  };
}

function compileProvider(name: string, p: ProviderFile): ProviderPolicy {
  const d = providerDefaults(name);
  // Semantics guarantee base_url for providers without a built-in one.
  const baseUrl = (p.base_url ?? d.baseUrl ?? "").replace(/\/+$/, "");
  return {
    name,
    api: p.api ?? d.api,
    baseUrl,
    auth: p.auth ?? d.auth,
    // A custom pattern is anchored whatever its author wrote: matching part of a key proves nothing.
    keyPattern: new RegExp(p.key_pattern === undefined ? d.keyPattern : `^(?:${p.key_pattern})$`),
    keepHeaders: new Set(p.keep_headers.map((h) => h.toLowerCase())),
    timeoutMs: parseDuration(p.timeout),
    verifyPath: p.verify_path ?? d.verifyPath,
    guards: compileGuards(p.guards),
  };
}

/** The providers the file lists, or the three well-known ones when it has no `providers` section. */
export function compileProviders(providers: PolicyFile["providers"]): ReadonlyMap<string, ProviderPolicy> {
  const names = providers ? Object.keys(providers) : Object.keys(WELL_KNOWN_PROVIDERS);
  return new Map(names.map((name) => [name, compileProvider(name, providers?.[name] ?? EMPTY_PROVIDER)]));
}
