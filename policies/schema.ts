/**
 * The zod schema of `policies.yaml` (SPEC §8 plus the extensions documented in
 * docs/policies.md). Strict objects everywhere: an unknown key is an error.
 * Checks that span fields (scopes, tiers, algorithm families) live in
 * `semantics.ts`, so they are reported even when other fields are wrong.
 */
import { z } from "zod";
import {
  cidr,
  duration,
  envName,
  headerName,
  httpUrl,
  name,
  oneOf,
  origin,
  pathGlob,
  positiveInt,
  present,
  rate,
  regexSource,
  show,
  size,
} from "./schema-fields.ts";

export const ALGORITHMS = [
  ...["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
  ...["ES256", "ES384", "ES512", "EdDSA"],
] as const;

const algorithm = z.enum(ALGORITHMS, {
  error: present((iss) =>
    String(iss.input).toLowerCase() === "none"
      ? `the "none" algorithm is never allowed, expected signed algorithms such as HS256 or RS256`
      : `${show(iss.input)} is not a supported algorithm, expected one of: ${ALGORITHMS.join(", ")}`,
  ),
});

const nonEmpty = z.string().min(1, { error: "is empty, expected a non-empty string" });

const authSchema = z.strictObject({
  algorithms: z.array(algorithm).min(1, { error: "is empty, expected at least one algorithm such as HS256" }),
  secret_env: z
    .union([envName, z.array(envName).min(1, { error: "is empty, expected at least one name" })])
    .optional(),
  jwks_url: httpUrl(true).optional(),
  issuer: nonEmpty.optional(),
  audience: nonEmpty.optional(),
  clock_tolerance: duration.default("5s"),
  user_claim: nonEmpty.default("sub"),
  tier_claim: nonEmpty.optional(),
  public: z.array(pathGlob).default([]),
});

const guardsSchema = z.strictObject({
  max_body: size.optional(),
  max_messages: positiveInt.optional(),
  max_tokens: z
    .strictObject({ limit: positiveInt, action: oneOf(["reject", "clamp"]).default("reject") })
    .optional(),
  models: z.array(nonEmpty).min(1, { error: "is empty, expected at least one model glob" }).optional(),
  deny: z.array(oneOf(["tools", "functions", "logit_bias", "logprobs", "n"])).default([]),
  deny_patterns: z.array(z.strictObject({ name: name("deny pattern"), regex: regexSource })).default([]),
});

const providerSchema = z.strictObject({
  base_url: httpUrl().optional(),
  auth: oneOf(["bearer", "x-api-key", "x-goog-api-key"]).optional(),
  api: oneOf(["openai", "anthropic", "google"]).optional(),
  key_pattern: regexSource.optional(),
  keep_headers: z.array(headerName).default([]),
  timeout: duration.default("600s"),
  verify_path: pathGlob.optional(),
  guards: guardsSchema.optional(),
});

export const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

const method = z.string().refine((m) => (METHODS as readonly string[]).includes(m.toUpperCase()), {
  error: present((iss) => `${show(iss.input)} is not an HTTP method, expected one of: ${METHODS.join(", ")}`),
});

const limitSchema = z.strictObject({
  name: name("limit"),
  scope: nonEmpty,
  per: oneOf(["user", "ip", "global"]),
  rate: rate.optional(),
  tokens: rate.optional(),
  count: z
    .array(oneOf(["input", "output", "cached"]))
    .min(1, { error: "is empty, expected input, output and/or cached" })
    .optional(),
  concurrent: positiveInt.optional(),
  paths: z
    .array(pathGlob)
    .min(1, { error: "is empty, expected at least one path glob or no paths" })
    .optional(),
  methods: z
    .array(method)
    .min(1, { error: "is empty, expected at least one method or no methods" })
    .optional(),
  on_store_failure: oneOf(["local", "allow", "deny"]).default("local"),
  shadow: z.boolean().default(false),
});

const overrideSchema = z
  .strictObject({ rate: rate.optional(), tokens: rate.optional(), concurrent: positiveInt.optional() })
  .refine((o) => Object.keys(o).length > 0, {
    error: "is empty, expected at least one of rate, tokens, concurrent",
  });

/** The whole file, as the loader validates it after `${VAR}` expansion. */
export const policySchema = z.strictObject({
  version: z.literal(1, {
    error: present((iss) => `${show(iss.input)} is not supported, expected 1 (the only policy file version)`),
  }),
  auth: authSchema,
  trust_proxies: z.array(cidr).default([]),
  cors: z.strictObject({ origins: z.array(origin).default([]) }).default({ origins: [] }),
  upstreams: z.strictObject({ app: httpUrl() }),
  // `openai:` with nothing after it means "this provider, all defaults".
  providers: z.record(name("provider"), z.union([z.null(), providerSchema])).optional(),
  limits: z.array(limitSchema).default([]),
  tiers: z.record(nonEmpty, z.record(z.string(), z.union([rate, overrideSchema]))).default({}),
});

/** The validated file, defaults filled in; input to the compiler. */
export type PolicyFile = z.output<typeof policySchema>;
export type ProviderFile = z.output<typeof providerSchema>;
/** What a provider entry with no settings (`openai: {}` or `openai:`) validates to. */
export const EMPTY_PROVIDER: ProviderFile = providerSchema.parse({});
export type LimitFile = z.output<typeof limitSchema>;
