import { describe, expect, it } from "vitest";
import { createUsageObserver, type Usage } from "../../gateway/providers/usage/index.ts";
import type { ProviderApi } from "../../policies/types.ts";
import {
  anthropicEvents,
  bytewise,
  done,
  feed,
  googleChunks,
  openaiChatEvents,
  openaiResponsesEvents,
  openaiUsageChunk,
  splits,
  sse,
} from "./fixtures.ts";

const SSE = "text/event-stream; charset=utf-8";

interface Case {
  name: string;
  api: ProviderApi;
  events: readonly { event?: string; data: unknown }[];
  usage: Usage;
}

const cases: Case[] = [
  {
    name: "openai chat completions (usage-only final chunk)",
    api: "openai",
    events: [...openaiChatEvents, openaiUsageChunk, done],
    usage: { input: 15, output: 10, cached: 4 },
  },
  {
    name: "openai responses (response.completed)",
    api: "openai",
    events: openaiResponsesEvents,
    usage: { input: 30, output: 87, cached: 6 },
  },
  {
    name: "anthropic (message_start + message_delta)",
    api: "anthropic",
    events: anthropicEvents,
    usage: { input: 125, output: 15, cached: 400 },
  },
  {
    name: "google (usageMetadata in each chunk, last wins)",
    api: "google",
    events: googleChunks.map((data) => ({ data })),
    usage: { input: 5, output: 17, cached: 3 },
  },
];

function observe(api: ProviderApi) {
  return createUsageObserver(api, { stream: true, dropUsageChunk: false, contentType: SSE });
}

describe.each(cases)("streamed usage: $name", ({ api, events, usage }) => {
  for (const eol of ["\n", "\r\n"]) {
    const label = eol === "\n" ? "LF" : "CRLF";
    const bytes = Buffer.from(sse(events, eol));

    it(`reads usage from one chunk (${label}) and forwards the bytes unchanged`, () => {
      const observer = observe(api);
      expect(observer.usage()).toBeUndefined();
      expect(feed(observer, [bytes]).equals(bytes)).toBe(true);
      expect(observer.usage()).toEqual(usage);
    });

    it(`reads the same usage when split at every byte position (${label})`, () => {
      for (const [a, b] of splits(bytes)) {
        const observer = observe(api);
        const out = feed(observer, [a, b]);
        expect(out.equals(bytes), `split at ${a.length}`).toBe(true);
        expect(observer.usage(), `split at ${a.length}`).toEqual(usage);
      }
    });

    it(`reads the same usage fed one byte at a time (${label})`, () => {
      const observer = observe(api);
      expect(feed(observer, bytewise(bytes)).equals(bytes)).toBe(true);
      expect(observer.usage()).toEqual(usage);
    });
  }
});

describe("streamed usage details", () => {
  it("returns the very chunk it was given when nothing is removed", () => {
    const observer = observe("anthropic");
    const chunk = Buffer.from(sse(anthropicEvents));
    expect(observer.push(chunk)).toBe(chunk);
  });

  it("takes the last cumulative anthropic output count", () => {
    const events = [
      ...anthropicEvents.slice(0, 1),
      { event: "message_delta", data: { type: "message_delta", delta: {}, usage: { output_tokens: 7 } } },
      { event: "message_delta", data: { type: "message_delta", delta: {}, usage: { output_tokens: 42 } } },
    ];
    const observer = observe("anthropic");
    feed(observer, [Buffer.from(sse(events))]);
    expect(observer.usage()).toEqual({ input: 125, output: 42, cached: 400 });
  });

  it("reads a final line that has no newline at the end of the body", () => {
    const observer = observe("google");
    const body = `data: ${JSON.stringify(googleChunks[1])}`;
    expect(feed(observer, [Buffer.from(body)]).toString()).toBe(body);
    expect(observer.usage()).toEqual({ input: 5, output: 17, cached: 3 });
  });

  it("reports no usage for a stream that carries none", () => {
    const observer = observe("openai");
    feed(observer, [Buffer.from(sse([...openaiChatEvents, done]))]);
    expect(observer.usage()).toBeUndefined();
  });

  it("ignores lines longer than maxBufferBytes but still forwards them", () => {
    const long = { ...googleChunks[1], candidates: [{ content: { parts: [{ text: "x".repeat(500) }] } }] };
    const bytes = Buffer.from(sse([{ data: long }]));
    const observer = createUsageObserver("google", {
      stream: true,
      dropUsageChunk: false,
      contentType: SSE,
      maxBufferBytes: 200,
    });
    expect(feed(observer, [bytes.subarray(0, 100), bytes.subarray(100)]).equals(bytes)).toBe(true);
    expect(observer.usage()).toBeUndefined();
  });

  it("treats an answer without content-type as SSE when the request streamed", () => {
    const observer = createUsageObserver("anthropic", {
      stream: true,
      dropUsageChunk: false,
      contentType: undefined,
    });
    feed(observer, [Buffer.from(sse(anthropicEvents))]);
    expect(observer.usage()).toEqual({ input: 125, output: 15, cached: 400 });
  });

  it("rejects a bad maxBufferBytes at construction", () => {
    expect(() =>
      createUsageObserver("openai", {
        stream: true,
        dropUsageChunk: false,
        contentType: SSE,
        maxBufferBytes: 0,
      }),
    ).toThrow("maxBufferBytes must be a positive integer, got 0");
  });
});
