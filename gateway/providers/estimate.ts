import type { ProviderApi } from "../../policies/types.ts";

/** What keygate needs to know about an LLM request before calling the provider. */
export interface LlmRequestInfo {
  /** The dialect the request was read as; picks the default output cap. */
  api: ProviderApi;
  /** The model asked for; Google: from the path. */
  model: string | undefined;
  /** Google: from the path (`:streamGenerateContent`). */
  stream: boolean;
  /** The output cap the client set; 0 on endpoints that produce no output (embeddings, token counting). */
  maxTokens: number | undefined;
  /** Conversation turns (OpenAI `messages`/`input`, Anthropic `messages`, Google `contents`). */
  messages: number;
  /** Characters of text in every message, system prompt included (not images, files or tool schemas). */
  promptChars: number;
}

/** Output cap reserved when the client sets none: the SDKs' and models' common defaults. */
export const DEFAULT_MAX_TOKENS: Readonly<Record<ProviderApi, number>> = {
  openai: 4096,
  anthropic: 4096,
  google: 8192,
};

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A field the provider accepts in camelCase or snake_case (Google's JSON mapping accepts both). */
export function either(obj: Json, camel: string, snake: string): unknown {
  return obj[camel] ?? obj[snake];
}

const GOOGLE_TARGET = /\/(?:tunedModels|models)\/([^/:]+)(?::([A-Za-z]+))?$/;

/** `/v1beta/models/gemini-2.0-flash:streamGenerateContent` → model and method. */
export function googleTarget(path: string): { model: string | undefined; method: string | undefined } {
  const match = GOOGLE_TARGET.exec(path);
  return { model: match?.[1], method: match?.[2] };
}

const GOOGLE_NO_OUTPUT = new Set(["countTokens", "embedContent", "batchEmbedContents"]);

/** Endpoints that only read input; their answers hold no output tokens. */
export function producesNoOutput(api: ProviderApi, path: string): boolean {
  if (api === "openai") return path.endsWith("/embeddings") || path.endsWith("/moderations");
  if (api === "anthropic") return path.endsWith("/count_tokens");
  const { method } = googleTarget(path);
  return method !== undefined && GOOGLE_NO_OUTPUT.has(method);
}

function whole(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function length(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return value === undefined || value === null ? 0 : 1;
}

/** Calls `visit` with each text the model reads, in order; stops when it returns true. Returns whether it stopped. */
export type TextVisitor = (text: string) => boolean;

function visitContent(content: unknown, visit: TextVisitor): boolean {
  if (typeof content === "string") return visit(content);
  if (!Array.isArray(content)) return false;
  for (const part of content) {
    if (typeof part === "string") {
      if (visit(part)) return true;
    } else if (isObject(part)) {
      // Text parts of every dialect carry `text`; Anthropic tool results nest `content`,
      // OpenAI Responses function outputs carry `output`.
      if (typeof part.text === "string" && visit(part.text)) return true;
      if (isObject(part.source) && part.source.type === "text" && typeof part.source.data === "string") {
        if (visit(part.source.data)) return true; // Anthropic plain-text document
      }
      if (typeof part.output === "string" && visit(part.output)) return true;
      if (part.content !== undefined && visitContent(part.content, visit)) return true;
      if (isObject(part.content) && visitContent(part.content.parts, visit)) return true;
    }
  }
  return false;
}

function visitGoogle(body: Json, visit: TextVisitor): boolean {
  const system = either(body, "systemInstruction", "system_instruction");
  if (isObject(system) && visitContent(system.parts, visit)) return true;
  const contents = Array.isArray(body.contents) ? body.contents : [body.contents, body.content];
  for (const turn of contents) if (isObject(turn) && visitContent(turn.parts, visit)) return true;
  if (Array.isArray(body.requests) && visitContent(body.requests, visit)) return true;
  const nested = either(body, "generateContentRequest", "generate_content_request");
  return isObject(nested) && visitGoogle(nested, visit);
}

/** Every text of the request the model reads: messages, inputs, prompts and system prompts. */
export function visitPromptText(api: ProviderApi, body: Json, visit: TextVisitor): boolean {
  if (api === "google") return visitGoogle(body, visit);
  if (visitContent(api === "anthropic" ? body.system : body.instructions, visit)) return true;
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) {
      if (isObject(message) && visitContent(message.content, visit)) return true;
    }
  }
  if (api === "anthropic") return false;
  // Responses API and embeddings `input`, legacy completions `prompt`: a string or a list.
  for (const field of [body.input, body.prompt]) {
    if (typeof field === "string" && visit(field)) return true;
    if (Array.isArray(field) && visitContent(field, visit)) return true;
  }
  return false;
}

/** Conversation turns the request sends. */
export function countMessages(api: ProviderApi, body: Json): number {
  if (api === "google") return Array.isArray(body.requests) ? body.requests.length : length(body.contents);
  if (api === "anthropic") return length(body.messages);
  return length(body.messages ?? body.input ?? body.prompt);
}

function maxTokensOf(api: ProviderApi, body: Json): number | undefined {
  if (api === "anthropic") return whole(body.max_tokens);
  if (api === "openai") return whole(body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens);
  const config = either(body, "generationConfig", "generation_config");
  return isObject(config) ? whole(either(config, "maxOutputTokens", "max_output_tokens")) : undefined;
}

/**
 * Reads model, stream flag, output cap and prompt size from a parsed request.
 * Never throws: a body that is not a JSON object yields empty facts.
 *
 * @example describeRequest("openai", "/chat/completions", { model: "gpt-4o", messages: [...] })
 */
export function describeRequest(api: ProviderApi, path: string, body: unknown): LlmRequestInfo {
  const obj = isObject(body) ? body : {};
  const target = api === "google" ? googleTarget(path) : undefined;
  let promptChars = 0;
  visitPromptText(api, obj, (text) => {
    promptChars += text.length;
    return false;
  });
  return {
    api,
    model: target ? target.model : typeof obj.model === "string" ? obj.model : undefined,
    stream: target ? target.method === "streamGenerateContent" : obj.stream === true,
    maxTokens: producesNoOutput(api, path) ? 0 : maxTokensOf(api, obj),
    messages: countMessages(api, obj),
    promptChars,
  };
}

/**
 * Tokens to reserve before the call: about 4 characters per token of prompt,
 * plus the output cap (the dialect's default when the client set none); at least 1.
 *
 * @example estimateTokens({ api: "openai", model: "gpt-4o", stream: false, maxTokens: 256, messages: 1, promptChars: 10 }) // 259
 */
export function estimateTokens(info: LlmRequestInfo): number {
  const output = info.maxTokens ?? DEFAULT_MAX_TOKENS[info.api];
  return Math.max(1, Math.ceil(info.promptChars / 4) + output);
}
