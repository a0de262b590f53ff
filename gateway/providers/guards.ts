import type { DeniableFeature, Guards, ProviderApi } from "../../policies/types.ts";
import { GatewayError } from "../errors.ts";
import { countMessages, either, googleTarget, isObject, visitPromptText } from "./estimate.ts";

type Json = Record<string, unknown>;
type MaxTokensRule = NonNullable<Guards["maxTokens"]>;

/** The body to send upstream and whether it differs from the one given. */
export interface GuardResult {
  body: unknown;
  changed: boolean;
}

function reject(guard: string, detail: string): GatewayError {
  const message = `request rejected by guard ${guard}: ${detail}`;
  return new GatewayError(400, "guard-rejected", "Request rejected by guard", message, { guard });
}

/** Whether any guard beyond the body size (which the caller enforces while reading) is configured. */
export function hasGuardRules(guards: Guards): boolean {
  return (
    guards.maxMessages !== undefined ||
    guards.maxTokens !== undefined ||
    guards.modelAllowed !== undefined ||
    guards.deny.size > 0 ||
    guards.denyPatterns.length > 0
  );
}

function toObject(body: unknown): Json {
  let value = body;
  if (typeof body === "string" || body instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
    } catch {
      value = undefined;
    }
  }
  if (isObject(value)) return value;
  const detail =
    "this provider has request guards, so the request body must be a JSON object; send the SDK's usual JSON body";
  throw new GatewayError(400, "bad-request", "Bad request", detail);
}

function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (Array.isArray(value)) return value.length > 0;
  return !isObject(value) || Object.keys(value).length > 0;
}

function toolsOf(body: Json): Json[] {
  return Array.isArray(body.tools) ? body.tools.filter(isObject) : [];
}

/** Google accepts `generationConfig` and `generation_config`; a guard must see both. */
const GOOGLE_CONFIG_KEYS = ["generationConfig", "generation_config"] as const;

function googleConfig(body: Json): Json {
  const snake = body.generation_config;
  const camel = body.generationConfig;
  return { ...(isObject(snake) ? snake : {}), ...(isObject(camel) ? camel : {}) };
}

function above(value: unknown, n: number): boolean {
  return typeof value === "number" && value > n;
}

/** Per feature: what in the body uses it (for the error), or undefined when unused. */
const FEATURES: Record<DeniableFeature, (api: ProviderApi, body: Json) => string | undefined> = {
  tools: (_api, body) => (isSet(body.tools) ? "tools are not allowed; remove the tools field" : undefined),
  // Client-defined function calling in each dialect (not provider-hosted tools such as web search).
  functions(api, body) {
    const tools = toolsOf(body);
    const uses =
      api === "openai"
        ? isSet(body.functions) ||
          isSet(body.function_call) ||
          tools.some((t) => t.type === "function" || t.type === "custom")
        : api === "anthropic"
          ? tools.some((t) => t.type === undefined || t.type === "custom")
          : tools.some((t) => isSet(either(t, "functionDeclarations", "function_declarations")));
    return uses ? "function calling is not allowed; remove the function definitions" : undefined;
  },
  logit_bias: (_api, body) => (isSet(body.logit_bias) ? "logit_bias is not allowed; remove it" : undefined),
  logprobs(api, body) {
    const config = api === "google" ? googleConfig(body) : body;
    const uses =
      api === "google"
        ? either(config, "responseLogprobs", "response_logprobs") === true || isSet(config.logprobs)
        : (body.logprobs !== 0 && isSet(body.logprobs)) ||
          above(body.top_logprobs, 0) ||
          (Array.isArray(body.include) && body.include.includes("message.output_text.logprobs"));
    return uses ? "log probabilities are not allowed; remove logprobs/top_logprobs" : undefined;
  },
  n(api, body) {
    if (api === "google") {
      const count = either(googleConfig(body), "candidateCount", "candidate_count");
      return above(count, 1) ? "more than one candidate is not allowed; set candidateCount to 1" : undefined;
    }
    const many = above(body.n, 1) || above(body.best_of, 1);
    return many ? "more than one choice is not allowed; set n (and best_of) to 1" : undefined;
  },
};

function checkModel(api: ProviderApi, path: string, body: Json, allowed: (model: string) => boolean): void {
  // Absent: nothing to check (non-generation JSON endpoints); generation endpoints require a model.
  const model = api === "google" ? googleTarget(path).model : body.model;
  if (model === undefined) return;
  if (typeof model !== "string") throw reject("model", "model must be a string naming an allowed model");
  if (!allowed(model))
    throw reject("model", `model "${model}" is not allowed; use a model the policy allows`);
}

function checkPatterns(api: ProviderApi, body: Json, patterns: Guards["denyPatterns"]): void {
  for (const { name, regex } of patterns) {
    const matched = visitPromptText(api, body, (text) => {
      regex.lastIndex = 0; // a /g or /y regex keeps its position between calls
      return regex.test(text);
    });
    // The matched text is never echoed: the pattern usually guards something sensitive.
    if (matched)
      throw reject(`pattern:${name}`, `message text matches deny pattern "${name}"; remove that content`);
  }
}

/** Caps the output fields of `holder`; adds `add` when none is set. Returns the new holder, or undefined if unchanged. */
function capIn(holder: Json, keys: readonly string[], add: string, rule: MaxTokensRule): Json | undefined {
  let next: Json | undefined;
  let present = false;
  for (const key of keys) {
    const value = holder[key];
    if (value === undefined || value === null) continue;
    present = true;
    if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= rule.limit) continue;
    if (rule.action === "reject") {
      const shown = typeof value === "number" ? String(value) : "not a whole number";
      const limit = rule.limit;
      throw reject(
        "max-tokens",
        `${key} is ${shown}, above the limit of ${limit}; set ${key} to at most ${limit}`,
      );
    }
    next ??= { ...holder };
    next[key] = rule.limit;
  }
  // Without a cap the provider's default (often far higher) applies, so the limit becomes the cap.
  if (!present && add !== "") next = { ...holder, [add]: rule.limit };
  return next;
}

const OPENAI_CAPS = ["max_tokens", "max_completion_tokens", "max_output_tokens"] as const;
const GOOGLE_CAPS = ["maxOutputTokens", "max_output_tokens"] as const;

function openAiCapField(path: string): string {
  if (path.endsWith("/chat/completions")) return "max_completion_tokens";
  if (path.endsWith("/responses")) return "max_output_tokens";
  return path.endsWith("/completions") ? "max_tokens" : "";
}

function capGoogle(path: string, body: Json, rule: MaxTokensRule): Json | undefined {
  const method = googleTarget(path).method;
  const generates = method === "generateContent" || method === "streamGenerateContent";
  const configs = GOOGLE_CONFIG_KEYS.filter((key) => isObject(body[key]));
  const hasCap = configs.some((key) => GOOGLE_CAPS.some((cap) => (body[key] as Json)[cap] != null));
  const addTo = hasCap || !generates ? undefined : (configs[0] ?? "generationConfig");
  let next: Json | undefined;
  for (const key of configs) {
    const capped = capIn(body[key] as Json, GOOGLE_CAPS, key === addTo ? "maxOutputTokens" : "", rule);
    if (capped !== undefined) next = { ...(next ?? body), [key]: capped };
  }
  if (addTo !== undefined && configs.length === 0) {
    next = { ...body, generationConfig: { maxOutputTokens: rule.limit } };
  }
  return next;
}

function capMaxTokens(api: ProviderApi, path: string, body: Json, rule: MaxTokensRule): Json | undefined {
  if (api === "openai") return capIn(body, OPENAI_CAPS, openAiCapField(path), rule);
  if (api === "google") return capGoogle(path, body, rule);
  return capIn(body, ["max_tokens"], path.endsWith("/messages") ? "max_tokens" : "", rule);
}

/**
 * Applies a provider's request guards to a parsed JSON body (a string or bytes
 * are parsed too). Throws `GatewayError(400, "guard-rejected")` with `guard`
 * set to the first guard broken (`model`, `max-messages`, `deny:<feature>`,
 * `pattern:<name>`, `max-tokens`), or 400 `bad-request` when guards apply and
 * the body is not a JSON object. The only change ever made is the output cap
 * (`max-tokens` clamp, or the limit added when the client set none); the input
 * is never mutated. `undefined` (no body) and empty guards pass unchanged.
 *
 * @example const { body, changed } = applyGuards("openai", "/chat/completions", parsed, provider.guards);
 */
export function applyGuards(api: ProviderApi, path: string, body: unknown, guards: Guards): GuardResult {
  if (body === undefined || !hasGuardRules(guards)) return { body, changed: false };
  const obj = toObject(body);
  if (guards.modelAllowed !== undefined) checkModel(api, path, obj, guards.modelAllowed);
  if (guards.maxMessages !== undefined) {
    const count = countMessages(api, obj);
    if (count > guards.maxMessages) {
      const max = guards.maxMessages;
      throw reject(
        "max-messages",
        `the request has ${count} messages, more than ${max}; send at most ${max}`,
      );
    }
  }
  for (const feature of guards.deny) {
    const problem = FEATURES[feature]?.(api, obj);
    if (problem !== undefined) throw reject(`deny:${feature}`, problem);
  }
  if (guards.denyPatterns.length > 0) checkPatterns(api, obj, guards.denyPatterns);
  const capped = guards.maxTokens === undefined ? undefined : capMaxTokens(api, path, obj, guards.maxTokens);
  return capped === undefined ? { body, changed: false } : { body: capped, changed: true };
}
