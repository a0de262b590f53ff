/**
 * Byte fixtures for usage parsing: provider answers as they appear on the
 * wire (shapes copied from the providers' API references), built at run time.
 */
import type { UsageObserver } from "../../gateway/providers/usage/index.ts";

/** One SSE event per object: `event:` line when named, one `data:` line, blank line. */
export function sse(events: readonly { event?: string; data: unknown }[], eol = "\n"): string {
  return events
    .map(({ event, data }) => {
      const name = event === undefined ? "" : `event: ${event}${eol}`;
      return `${name}data: ${typeof data === "string" ? data : JSON.stringify(data)}${eol}${eol}`;
    })
    .join("");
}

/** Feeds chunks through an observer; returns the bytes it forwarded, in order. */
export function feed(observer: UsageObserver, chunks: readonly Uint8Array[]): Buffer {
  const out: Uint8Array[] = chunks.map((chunk) => observer.push(chunk));
  out.push(observer.end());
  return Buffer.concat(out);
}

/** Every way to cut `bytes` into two chunks (including an empty first or last one). */
export function* splits(bytes: Buffer): Generator<[Buffer, Buffer]> {
  for (let i = 0; i <= bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
}

/** One chunk per byte. */
export function bytewise(bytes: Buffer): Buffer[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
}

const chunkBase = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini" };

/** OpenAI chat stream events before the usage chunk (with include_usage on, `usage: null` on each). */
export const openaiChatEvents = [
  { data: { ...chunkBase, choices: [{ index: 0, delta: { role: "assistant", content: "" } }], usage: null } },
  // Text that mentions the counter names must not be read as usage.
  {
    data: {
      ...chunkBase,
      choices: [{ index: 0, delta: { content: 'say "prompt_tokens": 99' } }],
      usage: null,
    },
  },
  { data: { ...chunkBase, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null } },
];

export const openaiUsageChunk = {
  data: {
    ...chunkBase,
    choices: [],
    usage: {
      prompt_tokens: 19,
      completion_tokens: 10,
      total_tokens: 29,
      prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 2 },
    },
  },
};

export const done = { data: "[DONE]" };

const response = { id: "resp_1", object: "response", model: "gpt-4.1", output: [] };

export const openaiResponsesEvents = [
  {
    event: "response.created",
    data: { type: "response.created", response: { ...response, status: "in_progress", usage: null } },
  },
  {
    event: "response.output_text.delta",
    data: { type: "response.output_text.delta", item_id: "msg_1", delta: "Hi" },
  },
  {
    event: "response.completed",
    data: {
      type: "response.completed",
      response: {
        ...response,
        status: "completed",
        usage: {
          input_tokens: 36,
          input_tokens_details: { cached_tokens: 6 },
          output_tokens: 87,
          output_tokens_details: { reasoning_tokens: 20 },
          total_tokens: 123,
        },
      },
    },
  },
];

export const anthropicEvents = [
  {
    event: "message_start",
    data: {
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-5-5",
        content: [],
        usage: {
          input_tokens: 25,
          cache_creation_input_tokens: 100,
          cache_read_input_tokens: 400,
          output_tokens: 1,
        },
      },
    },
  },
  {
    event: "content_block_start",
    data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  },
  { event: "ping", data: { type: "ping" } },
  {
    event: "content_block_delta",
    data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } },
  },
  { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
  {
    event: "message_delta",
    data: { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 15 } },
  },
  { event: "message_stop", data: { type: "message_stop" } },
];

const geminiBase = { modelVersion: "gemini-2.0-flash", responseId: "r1" };

export const googleChunks = [
  {
    ...geminiBase,
    candidates: [{ content: { parts: [{ text: "Hel" }], role: "model" }, index: 0 }],
    usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 },
  },
  {
    ...geminiBase,
    candidates: [{ content: { parts: [{ text: "lo" }], role: "model" }, finishReason: "STOP", index: 0 }],
    usageMetadata: {
      promptTokenCount: 8,
      cachedContentTokenCount: 3,
      candidatesTokenCount: 12,
      thoughtsTokenCount: 5,
      totalTokenCount: 25,
    },
  },
];
