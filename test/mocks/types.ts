/** Shared types of the mock LLM providers (see `providers.ts`). */
import type { IncomingHttpHeaders } from "node:http";

export type MockProvider = "openai" | "anthropic" | "google";

export interface MockUsage {
  readonly input: number;
  readonly output: number;
  /** Cached input tokens (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`, Google `cachedContentTokenCount`). */
  readonly cached?: number;
}

/** How a mock answers. Every field is optional; `{}` is a plain, immediate, successful answer. */
export interface MockBehaviour {
  /** The assistant's text; streams send one content chunk per piece. Default `["Hello", " from", " mock"]`. */
  readonly text?: readonly string[];
  /** Usage reported in the answer (streams: in the usage-carrying chunk). Default `{ input: 11, output: 7, cached: 0 }`. */
  readonly usage?: MockUsage;
  /** Milliseconds between stream chunks (and between the halves of a split key). Default 0. */
  readonly chunkDelayMs?: number;
  /** When set, only these keys are accepted; any other gets an auth error whose message echoes the key. */
  readonly acceptKeys?: readonly string[];
  /** Status of that auth error. Default 401 (real Google answers 400 `API_KEY_INVALID`; set 400 to mimic it). */
  readonly authErrorStatus?: number;
  /** Echo the received key in a response header, `x-mock-echo-key`. */
  readonly echoKeyHeader?: boolean;
  /** Put the received key in the answer's text, and write it in two transport chunks split mid-key. */
  readonly keyInBody?: boolean;
  /** Answer with a provider-shaped error of this status (e.g. 500, 503, 429), optionally with `retry-after`. */
  readonly fail?: { readonly status: number; readonly retryAfterS?: number };
  /** Never answer (`"headers"`), or send headers and the first chunk then stall (`"body"`). Ends on `close()` or client abort. */
  readonly hang?: "headers" | "body";
}

/** What a mock received. */
export interface RecordedRequest {
  readonly provider: MockProvider;
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The key found in the provider's own slot, or undefined. */
  readonly key: string | undefined;
  /** Resolves once the mock has written its last byte (or the client went away). */
  readonly finished: Promise<void>;
}

/** What a route handler decides; the server writes it. */
export interface MockReply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Written one after another, `chunkDelayMs` apart when `stream` is true. */
  readonly chunks: readonly string[];
  readonly stream?: boolean;
}

/** Everything a route handler needs to answer one request. */
export interface MockCall {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Parsed JSON body, or undefined when there was none. */
  readonly json: Record<string, unknown> | undefined;
  readonly key: string;
  readonly behaviour: MockBehaviour;
}

export const DEFAULT_TEXT: readonly string[] = ["Hello", " from", " mock"];
export const DEFAULT_USAGE: Required<MockUsage> = { input: 11, output: 7, cached: 0 };

/** The answer's text pieces, with the key appended as its own piece when `keyInBody` is set. */
export function textPieces(call: MockCall): readonly string[] {
  const text = call.behaviour.text ?? DEFAULT_TEXT;
  return call.behaviour.keyInBody ? [...text, ` your key is ${call.key}.`] : text;
}

export function usageOf(call: MockCall): Required<MockUsage> {
  return { ...DEFAULT_USAGE, ...call.behaviour.usage };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): MockReply {
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    chunks: [JSON.stringify(body)],
  };
}

export function sse(chunks: readonly string[]): MockReply {
  return {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    chunks,
    stream: true,
  };
}
