import { describe, expect, it } from "vitest";
import { createUsageObserver } from "../../gateway/providers/usage/index.ts";
import { bytewise, done, feed, openaiChatEvents, openaiUsageChunk, splits, sse } from "./fixtures.ts";

const SSE = "text/event-stream";
const usage = { input: 15, output: 10, cached: 4 };

function observer(dropUsageChunk: boolean, maxBufferBytes?: number) {
  return createUsageObserver("openai", {
    stream: true,
    dropUsageChunk,
    contentType: SSE,
    ...(maxBufferBytes === undefined ? {} : { maxBufferBytes }),
  });
}

describe("dropping OpenAI's usage-only chunk", () => {
  for (const eol of ["\n", "\r\n"]) {
    const label = eol === "\n" ? "LF" : "CRLF";
    const upstream = Buffer.from(sse([...openaiChatEvents, openaiUsageChunk, done], eol));
    const expected = Buffer.from(sse([...openaiChatEvents, done], eol));

    it(`removes only that event, at every split position (${label})`, () => {
      for (const [a, b] of splits(upstream)) {
        const o = observer(true);
        const out = feed(o, [a, b]);
        expect(out.toString(), `split at ${a.length}`).toBe(expected.toString());
        expect(o.usage(), `split at ${a.length}`).toEqual(usage);
      }
    });

    it(`removes only that event when fed byte by byte (${label})`, () => {
      const o = observer(true);
      expect(feed(o, bytewise(upstream)).toString()).toBe(expected.toString());
      expect(o.usage()).toEqual(usage);
    });

    it(`keeps the chunk when the client asked for usage (${label})`, () => {
      const o = observer(false);
      expect(feed(o, [upstream]).equals(upstream)).toBe(true);
      expect(o.usage()).toEqual(usage);
    });
  }

  it("keeps the [DONE] terminator as the last event", () => {
    const o = observer(true);
    const out = feed(o, [Buffer.from(sse([...openaiChatEvents, openaiUsageChunk, done]))]).toString();
    expect(out.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(out).not.toContain('"completion_tokens"');
  });

  it("forwards each complete event as soon as its blank line arrives", () => {
    const o = observer(true);
    const first = Buffer.from(sse(openaiChatEvents.slice(0, 1)));
    expect(o.push(first)).toBe(first);
    const half = Buffer.from(sse(openaiChatEvents.slice(1, 2)));
    expect(o.push(half.subarray(0, 10)).length).toBe(0);
    expect(Buffer.from(o.push(half.subarray(10))).equals(half)).toBe(true);
  });

  it("keeps a usage chunk that also carries choices (not usage-only)", () => {
    const withChoice = { data: { ...openaiUsageChunk.data, choices: [{ index: 0, delta: {} }] } };
    const upstream = Buffer.from(sse([...openaiChatEvents, withChoice, done]));
    const o = observer(true);
    expect(feed(o, [upstream]).equals(upstream)).toBe(true);
    expect(o.usage()).toEqual(usage);
  });

  it("drops a usage-only chunk cut off without its blank line at the end of the body", () => {
    const body = `${sse(openaiChatEvents)}data: ${JSON.stringify(openaiUsageChunk.data)}`;
    const o = observer(true);
    expect(feed(o, [Buffer.from(body)]).toString()).toBe(sse(openaiChatEvents));
    expect(o.usage()).toEqual(usage);
  });

  it("streams an event larger than maxBufferBytes through instead of holding it", () => {
    const big = {
      data: { ...openaiChatEvents[1]!.data, choices: [{ index: 0, delta: { content: "y".repeat(1000) } }] },
    };
    const upstream = Buffer.from(sse([big, openaiUsageChunk, done]));
    const expected = sse([big, done]);
    for (const cut of [1, 400, 900, 1100]) {
      const o = observer(true, 600);
      const firstOut = o.push(upstream.subarray(0, cut));
      if (cut >= 600) expect(firstOut.length).toBeGreaterThan(0);
      const out = Buffer.concat([firstOut, o.push(upstream.subarray(cut)), o.end()]);
      expect(out.toString(), `cut at ${cut}`).toBe(expected);
      expect(o.usage()).toEqual(usage);
    }
  });

  it("never drops anything for anthropic or google", () => {
    const body = Buffer.from(sse([openaiUsageChunk]));
    for (const api of ["anthropic", "google"] as const) {
      const o = createUsageObserver(api, { stream: true, dropUsageChunk: true, contentType: SSE });
      expect(feed(o, [body]).equals(body)).toBe(true);
    }
  });
});

describe("dropping under random chunking", () => {
  // Deterministic PRNG so a failure names a reproducible seed.
  function prng(seed: number): () => number {
    let s = seed;
    return () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648;
    };
  }

  const big = {
    data: { ...openaiChatEvents[1]!.data, choices: [{ index: 0, delta: { content: "z".repeat(700) } }] },
  };
  const events = [...openaiChatEvents, big, openaiUsageChunk, done];

  for (const eol of ["\n", "\r\n"]) {
    it(`matches the upstream minus the usage event for 300 random chunkings (${JSON.stringify(eol)})`, () => {
      const upstream = Buffer.from(sse(events, eol));
      const expected = sse([...openaiChatEvents, big, done], eol);
      for (let seed = 1; seed <= 300; seed++) {
        const random = prng(seed);
        const cuts = Array.from({ length: 1 + Math.floor(random() * 6) }, () =>
          Math.floor(random() * upstream.length),
        );
        cuts.sort((a, b) => a - b);
        const chunks = [0, ...cuts].map((start, i) =>
          upstream.subarray(start, [...cuts, upstream.length][i]),
        );
        const o = observer(true, 500);
        expect(feed(o, chunks).toString(), `seed ${seed}`).toBe(expected);
        expect(o.usage(), `seed ${seed}`).toEqual(usage);
      }
    });
  }
});
