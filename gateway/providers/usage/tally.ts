import type { ProviderApi } from "../../../policies/types.ts";

/**
 * Tokens one LLM call used, normalised across providers.
 *
 * `input` is input the provider processed afresh (cache writes included) and
 * excludes `cached` (input read from a prompt cache), so `input + cached`
 * never counts a token twice. `output` includes reasoning/thinking tokens.
 */
export interface Usage {
  readonly input: number;
  readonly output: number;
  readonly cached: number;
}

/** Collects usage from the JSON objects of one answer (a plain body, or each streamed event). */
export interface UsageTally {
  /** Reads the usage an object carries, if any; later values replace earlier ones (providers report running totals). */
  absorb(obj: unknown): void;
  /** Usage seen so far; undefined when no object carried any. */
  usage(): Usage | undefined;
}

/** The provider's counters, by meaning; undefined = not reported (yet). */
interface Counters {
  prompt?: number | undefined;
  cached?: number | undefined;
  extraInput?: number | undefined;
  output?: number | undefined;
  extraOutput?: number | undefined;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** OpenAI chat/embeddings `usage`, Responses API `usage` (plain) or `response.usage` (stream events). */
function readOpenAi(obj: Json): Counters | undefined {
  const usage = isObject(obj.usage) ? obj.usage : isObject(obj.response) ? obj.response.usage : undefined;
  if (!isObject(usage)) return undefined;
  const details = usage.prompt_tokens_details ?? usage.input_tokens_details;
  return {
    prompt: count(usage.prompt_tokens) ?? count(usage.input_tokens),
    // Prompt-cache hits are part of prompt_tokens / input_tokens.
    cached: isObject(details) ? count(details.cached_tokens) : undefined,
    output: count(usage.completion_tokens) ?? count(usage.output_tokens),
  };
}

/** Anthropic `usage` (plain message, `message_delta`) or `message.usage` (`message_start`). */
function readAnthropic(obj: Json): Counters | undefined {
  const usage = isObject(obj.usage) ? obj.usage : isObject(obj.message) ? obj.message.usage : undefined;
  if (!isObject(usage)) return undefined;
  // Cache reads and writes come on top of input_tokens; a write is fresh input.
  return {
    prompt: count(usage.input_tokens),
    extraInput: count(usage.cache_creation_input_tokens),
    cached: count(usage.cache_read_input_tokens),
    output: count(usage.output_tokens),
  };
}

/** Gemini `usageMetadata`, in the plain answer and in every streamed chunk (running totals). */
function readGoogle(obj: Json): Counters | undefined {
  const usage = obj.usageMetadata;
  if (!isObject(usage)) return undefined;
  return {
    prompt: count(usage.promptTokenCount),
    // cachedContentTokenCount is part of promptTokenCount; tool-use prompts are not.
    cached: count(usage.cachedContentTokenCount),
    extraInput: count(usage.toolUsePromptTokenCount),
    output: count(usage.candidatesTokenCount),
    extraOutput: count(usage.thoughtsTokenCount),
  };
}

const READERS: Record<ProviderApi, (obj: Json) => Counters | undefined> = {
  openai: readOpenAi,
  anthropic: readAnthropic,
  google: readGoogle,
};

/** Usage accumulator for one answer of the given API dialect. */
export function createUsageTally(api: ProviderApi): UsageTally {
  const read = READERS[api];
  if (read === undefined) throw new TypeError(`unknown provider api "${String(api)}"`);
  const cachedIsPartOfPrompt = api !== "anthropic";
  const seen: Counters = {};
  let found = false;

  return {
    absorb(obj) {
      if (!isObject(obj)) return;
      const counters = read(obj);
      if (counters === undefined) return;
      for (const key of Object.keys(counters) as (keyof Counters)[]) {
        const value = counters[key];
        if (value === undefined) continue;
        seen[key] = value;
        found = true;
      }
    },
    usage() {
      if (!found) return undefined;
      const cached = seen.cached ?? 0;
      const prompt = seen.prompt ?? 0;
      const fresh = cachedIsPartOfPrompt ? Math.max(0, prompt - cached) : prompt;
      return {
        input: fresh + (seen.extraInput ?? 0),
        output: (seen.output ?? 0) + (seen.extraOutput ?? 0),
        cached,
      };
    },
  };
}
