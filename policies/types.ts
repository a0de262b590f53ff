/**
 * The compiled policy: what `policies.yaml` becomes after validation.
 *
 * Pure data and precompiled matchers. The gateway reads it on every request,
 * so nothing here parses or allocates per call. A reload builds a whole new
 * `CompiledPolicy` and swaps the reference; nothing is mutated in place.
 */

export type Per = "user" | "ip" | "global";
export type OnStoreFailure = "local" | "allow" | "deny";
/** Where a provider expects its API key. Never a URL parameter. */
export type AuthSlot = "bearer" | "x-api-key" | "x-goog-api-key";
/** Which wire dialect a provider speaks: error shapes, usage fields, verify endpoint. */
export type ProviderApi = "openai" | "anthropic" | "google";
/** Which usage fields a token limit counts. */
export type TokenKind = "input" | "output" | "cached";

/** `N/DURATION`, parsed: at most `quota` units per fixed window of `windowMs`. */
export interface Rate {
  readonly quota: number;
  readonly windowMs: number;
  /** As written in the file, e.g. `60/1m`; for tables and logs. */
  readonly text: string;
}

/** What a tier may override on one limit. */
export interface LimitOverride {
  readonly rate?: Rate;
  readonly tokens?: Rate;
  readonly concurrent?: number;
}

export interface CompiledLimit {
  /** Unique, `[a-z0-9-]+`. Also the counter's identity in the store. */
  readonly name: string;
  /** `app`, `keys`, `llm` (every provider) or a provider name. */
  readonly scope: string;
  readonly per: Per;
  /** Request quota. At least one of `rate`, `tokens`, `concurrent` is set. */
  readonly rate?: Rate;
  /** LLM token quota (provider and `llm` scopes only). */
  readonly tokens?: Rate;
  /** Which usage fields count against `tokens`; default input + output. */
  readonly count: readonly TokenKind[];
  /** Open requests (streams included) at once (provider and `llm` scopes only). */
  readonly concurrent?: number;
  readonly onStoreFailure: OnStoreFailure;
  readonly shadow: boolean;
  /** Tier name → overrides. A user whose tier has no entry gets the base values. */
  readonly tiers: ReadonlyMap<string, LimitOverride>;
  /** The `paths` globs and `methods` as written (for tables and reload diffs); undefined = any. */
  readonly paths?: readonly string[];
  readonly methods?: readonly string[];
  /** Precompiled `paths` / `methods` filter. `method` upper-case; `path` normalised and decoded, without query. */
  matches(method: string, path: string): boolean;
}

export interface AuthPolicy {
  readonly algorithms: readonly string[];
  /** HS*: names of env vars holding secrets; each is accepted (rotation). */
  readonly secretEnv: readonly string[];
  readonly jwksUrl?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly clockToleranceS: number;
  readonly userClaim: string;
  readonly tierClaim?: string;
  /** Precompiled `public` globs. */
  isPublic(path: string): boolean;
}

export type MaxTokensAction = "reject" | "clamp";
export type DeniableFeature = "tools" | "functions" | "logit_bias" | "logprobs" | "n";

export interface Guards {
  /** Bytes; 4 MiB when not set. */
  readonly maxBodyBytes: number;
  readonly maxMessages?: number;
  readonly maxTokens?: { readonly limit: number; readonly action: MaxTokensAction };
  /** Precompiled model allowlist globs; undefined = every model allowed. */
  readonly modelAllowed?: (model: string) => boolean;
  readonly deny: ReadonlySet<DeniableFeature>;
  readonly denyPatterns: readonly { readonly name: string; readonly regex: RegExp }[];
}

export interface ProviderPolicy {
  readonly name: string;
  readonly api: ProviderApi;
  /** Without trailing slash, e.g. `https://api.openai.com/v1`. */
  readonly baseUrl: string;
  readonly auth: AuthSlot;
  /** Shape a stored key must have (anchored). */
  readonly keyPattern: RegExp;
  /** Lower-case client headers forwarded despite the default strip list. */
  readonly keepHeaders: ReadonlySet<string>;
  readonly timeoutMs: number;
  /** Path (after base_url) of the cheapest authenticated GET, for key verify. */
  readonly verifyPath: string;
  readonly guards: Guards;
}

export interface CompiledPolicy {
  /** Absolute path of the file this came from. */
  readonly file: string;
  /** sha256 (hex, first 12) of the file's bytes; exported as a metric label. */
  readonly hash: string;
  readonly auth: AuthPolicy;
  /** CIDRs whose `x-forwarded-for` is trusted. */
  readonly trustProxies: readonly string[];
  readonly corsOrigins: ReadonlySet<string>;
  readonly upstreams: { readonly app: string };
  readonly providers: ReadonlyMap<string, ProviderPolicy>;
  readonly limits: readonly CompiledLimit[];
  /**
   * Every limit that applies to a request, in file order. For a provider scope
   * this includes `llm` limits. The per-scope lists are built at compile time;
   * only the path/method filter runs per call.
   */
  limitsFor(scope: string, method: string, path: string): readonly CompiledLimit[];
}
