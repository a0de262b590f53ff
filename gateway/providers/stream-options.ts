import type { ProviderApi } from "../../policies/types.ts";

/** What `ensureStreamUsage` did to a request body. */
export interface StreamUsageResult {
  body: unknown;
  changed: boolean;
  /** The client did not ask for usage: the observer must remove the usage-only chunk again. */
  dropUsageChunk: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * OpenAI chat/completions streams report usage only when asked
 * (`stream_options.include_usage`). Call this when a token limit applies: it
 * asks for usage on the client's behalf and says whether the extra usage-only
 * chunk must be hidden from the client. Anthropic and Google streams always
 * carry usage, and the Responses API (body with `input`, no `messages`/`prompt`)
 * always sends it in `response.completed`, so those bodies are returned as given.
 * The input body is never mutated.
 *
 * @example
 * const { body, dropUsageChunk } = ensureStreamUsage("openai", JSON.parse(raw));
 */
export function ensureStreamUsage(api: ProviderApi, body: unknown): StreamUsageResult {
  const unchanged = { body, changed: false, dropUsageChunk: false };
  if (api !== "openai" || !isObject(body) || body.stream !== true) return unchanged;
  if (body.messages === undefined && body.prompt === undefined) return unchanged;
  const options = body.stream_options;
  if (options !== undefined && options !== null && !isObject(options)) return unchanged; // the provider rejects it
  if (isObject(options) && options.include_usage === true) return unchanged;
  return {
    body: { ...body, stream_options: { ...options, include_usage: true } },
    changed: true,
    dropUsageChunk: true,
  };
}
