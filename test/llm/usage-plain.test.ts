import { describe, expect, it } from "vitest";
import { createUsageObserver, type Usage } from "../../gateway/providers/usage/index.ts";
import type { ProviderApi } from "../../policies/types.ts";
import { feed, googleChunks, splits } from "./fixtures.ts";

const JSON_TYPE = "application/json; charset=utf-8";

const cases: { name: string; api: ProviderApi; body: unknown; usage: Usage }[] = [
  {
    name: "openai chat completion",
    api: "openai",
    body: {
      id: "chatcmpl-1",
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
      usage: {
        prompt_tokens: 120,
        completion_tokens: 30,
        total_tokens: 150,
        prompt_tokens_details: { cached_tokens: 100 },
      },
    },
    usage: { input: 20, output: 30, cached: 100 },
  },
  {
    name: "openai responses",
    api: "openai",
    body: {
      id: "resp_1",
      object: "response",
      output: [],
      usage: {
        input_tokens: 50,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 9,
        total_tokens: 59,
      },
    },
    usage: { input: 50, output: 9, cached: 0 },
  },
  {
    name: "openai embeddings (no output)",
    api: "openai",
    body: {
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: [0.1] }],
      usage: { prompt_tokens: 8, total_tokens: 8 },
    },
    usage: { input: 8, output: 0, cached: 0 },
  },
  {
    name: "anthropic message (cache reads and writes on top of input)",
    api: "anthropic",
    body: {
      id: "msg_1",
      type: "message",
      content: [{ type: "text", text: "Hi" }],
      usage: {
        input_tokens: 12,
        cache_creation_input_tokens: 3,
        cache_read_input_tokens: 40,
        output_tokens: 6,
      },
    },
    usage: { input: 15, output: 6, cached: 40 },
  },
  {
    name: "google generateContent",
    api: "google",
    body: googleChunks[1],
    usage: { input: 5, output: 17, cached: 3 },
  },
  {
    name: "google streamGenerateContent without alt=sse (a JSON array)",
    api: "google",
    body: googleChunks,
    usage: { input: 5, output: 17, cached: 3 },
  },
  {
    name: "google with tool-use prompt tokens (input, not cached)",
    api: "google",
    body: { usageMetadata: { promptTokenCount: 10, toolUsePromptTokenCount: 4, candidatesTokenCount: 2 } },
    usage: { input: 14, output: 2, cached: 0 },
  },
];

describe.each(cases)("plain usage: $name", ({ api, body, usage }) => {
  const bytes = Buffer.from(JSON.stringify(body, null, 2));

  it("reads usage at the end and forwards every chunk as given, split anywhere", () => {
    for (const [a, b] of splits(bytes)) {
      const observer = createUsageObserver(api, {
        stream: false,
        dropUsageChunk: false,
        contentType: JSON_TYPE,
      });
      expect(observer.push(a)).toBe(a);
      expect(observer.push(b)).toBe(b);
      expect(observer.usage()).toBeUndefined();
      expect(observer.end().length).toBe(0);
      expect(observer.usage(), `split at ${a.length}`).toEqual(usage);
    }
  });
});

describe("plain usage limits", () => {
  const body = Buffer.from(JSON.stringify(cases[0]!.body));

  it("gives up on a JSON body larger than maxBufferBytes", () => {
    const observer = createUsageObserver("openai", {
      stream: false,
      dropUsageChunk: false,
      contentType: JSON_TYPE,
      maxBufferBytes: body.length - 1,
    });
    expect(feed(observer, [body]).equals(body)).toBe(true);
    expect(observer.usage()).toBeUndefined();
  });

  it("reads a body of exactly maxBufferBytes", () => {
    const observer = createUsageObserver("openai", {
      stream: false,
      dropUsageChunk: false,
      contentType: JSON_TYPE,
      maxBufferBytes: body.length,
    });
    feed(observer, [body]);
    expect(observer.usage()).toEqual({ input: 20, output: 30, cached: 100 });
  });

  it("does not read answers that are neither JSON nor SSE", () => {
    const observer = createUsageObserver("openai", {
      stream: false,
      dropUsageChunk: false,
      contentType: "text/plain",
    });
    expect(feed(observer, [body]).equals(body)).toBe(true);
    expect(observer.usage()).toBeUndefined();
  });

  it("reports no usage for a truncated or non-JSON body", () => {
    const observer = createUsageObserver("openai", {
      stream: false,
      dropUsageChunk: false,
      contentType: JSON_TYPE,
    });
    feed(observer, [body.subarray(0, body.length - 2)]);
    expect(observer.usage()).toBeUndefined();
  });

  it("ignores negative or non-numeric counters", () => {
    const odd = { usage: { prompt_tokens: -5, completion_tokens: "7" } };
    const observer = createUsageObserver("openai", {
      stream: false,
      dropUsageChunk: false,
      contentType: JSON_TYPE,
    });
    feed(observer, [Buffer.from(JSON.stringify(odd))]);
    expect(observer.usage()).toBeUndefined();
  });
});
