import { randomBytes } from "node:crypto";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MockProviders, startMockProviders } from "./providers.ts";

const fakeKey = (prefix: string) => `${prefix}${randomBytes(24).toString("hex")}`;

let mocks: MockProviders;
// @anthropic-ai/sdk 1.x sends apiKey as `Authorization: Bearer`; the mock, like keygate's
// upstream side, reads the `x-api-key` slot, so a direct client puts the key there too.
const anthropicClient = (key: string) =>
  new Anthropic({
    apiKey: key,
    baseURL: mocks.anthropicUrl,
    maxRetries: 0,
    defaultHeaders: { "x-api-key": key },
  });
beforeAll(async () => {
  mocks = await startMockProviders();
});
afterAll(() => mocks.close());
beforeEach(() => {
  mocks.setBehaviour({});
  mocks.requests.length = 0;
});

describe("mock providers through the official SDKs", () => {
  it("OpenAI: plain chat with usage, key read from the bearer slot", async () => {
    const key = fakeKey("sk-test-");
    const client = new OpenAI({ apiKey: key, baseURL: mocks.openaiUrl, maxRetries: 0 });
    mocks.setBehaviour({ usage: { input: 40, output: 2, cached: 8 } }, "openai");
    const r = await client.chat.completions.create({
      model: "gpt-mock",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(r.choices[0]?.message.content).toBe("Hello from mock");
    expect(r.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 2, total_tokens: 42 });
    expect(r.usage?.prompt_tokens_details?.cached_tokens).toBe(8);
    expect(mocks.requests).toHaveLength(1);
    expect(mocks.requests[0]).toMatchObject({
      provider: "openai",
      method: "POST",
      url: "/v1/chat/completions",
      key,
    });
  });

  it("OpenAI: stream sends a usage-only chunk only when include_usage is set", async () => {
    const client = new OpenAI({ apiKey: fakeKey("sk-test-"), baseURL: mocks.openaiUrl, maxRetries: 0 });
    const collect = async (includeUsage: boolean) => {
      const stream = await client.chat.completions.create({
        model: "gpt-mock",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      const chunks = [];
      for await (const c of stream) chunks.push(c);
      return chunks;
    };
    const without = await collect(false);
    expect(without.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Hello from mock");
    expect(without.some((c) => c.usage)).toBe(false);
    const withUsage = await collect(true);
    const last = withUsage.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
  });

  it("OpenAI: embeddings (SDK asks for base64) and models", async () => {
    const client = new OpenAI({ apiKey: fakeKey("sk-test-"), baseURL: mocks.openaiUrl, maxRetries: 0 });
    const e = await client.embeddings.create({ model: "text-embedding-mock", input: ["a", "b"] });
    expect(e.data.map((d) => d.embedding)).toEqual([
      [0.25, -0.5, 0.125, 1],
      [0.25, -0.5, 0.125, 1],
    ]);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["gpt-mock"]);
  });

  it("Anthropic: plain and streamed messages with usage from the x-api-key slot", async () => {
    const key = fakeKey("sk-ant-test-");
    const client = anthropicClient(key);
    mocks.setBehaviour({ usage: { input: 5, output: 9 } }, "anthropic");
    const msg = await client.messages.create({
      model: "claude-mock",
      max_tokens: 10,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(msg.content).toEqual([{ type: "text", text: "Hello from mock" }]);
    expect(msg.usage).toMatchObject({ input_tokens: 5, output_tokens: 9 });
    const stream = client.messages.stream({
      model: "claude-mock",
      max_tokens: 10,
      messages: [{ role: "user", content: "hi" }],
    });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "Hello from mock" }]);
    expect(final.usage).toMatchObject({ input_tokens: 5, output_tokens: 9 });
    expect(mocks.requests.map((r) => r.key)).toEqual([key, key]);
  });

  it("Google: generateContent and SSE stream with usageMetadata", async () => {
    const key = fakeKey("AIza-test-");
    const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: mocks.googleUrl } });
    mocks.setBehaviour({ usage: { input: 3, output: 4 } }, "google");
    const r = await ai.models.generateContent({ model: "gemini-mock", contents: "hi" });
    expect(r.text).toBe("Hello from mock");
    expect(r.usageMetadata).toMatchObject({
      promptTokenCount: 3,
      candidatesTokenCount: 4,
      totalTokenCount: 7,
    });
    const stream = await ai.models.generateContentStream({ model: "gemini-mock", contents: "hi" });
    const parts: string[] = [];
    let lastUsage: unknown;
    for await (const c of stream) {
      parts.push(c.text ?? "");
      lastUsage = c.usageMetadata;
    }
    expect(parts.join("")).toBe("Hello from mock");
    expect(lastUsage).toMatchObject({ candidatesTokenCount: 4, totalTokenCount: 7 });
    expect(mocks.requests[1]?.url).toBe("/v1/models/gemini-mock:streamGenerateContent?alt=sse");
    expect(mocks.requests.map((r) => r.key)).toEqual([key, key]);
  });
});

describe("mock behaviours", () => {
  it("rejects a key outside acceptKeys with an error quoting it, and a missing key", async () => {
    const key = fakeKey("sk-test-");
    mocks.setBehaviour({ acceptKeys: ["sk-test-other"] });
    const client = new OpenAI({ apiKey: key, baseURL: mocks.openaiUrl, maxRetries: 0 });
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as Error).message).toContain(`Incorrect API key provided: ${key}.`);
    const res = await fetch(`${mocks.googleUrl}/v1beta/models`);
    expect(res.status).toBe(401);
    expect(mocks.requests.at(-1)?.key).toBeUndefined();
  });

  it("echoes the key in a header and splits it across two transport chunks", async () => {
    const key = fakeKey("sk-test-");
    mocks.setBehaviour({ echoKeyHeader: true, keyInBody: true }, "openai");
    const res = await fetch(`${mocks.openaiUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [] }),
    });
    expect(res.headers.get("x-mock-echo-key")).toBe(key);
    const reads: string[] = [];
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) reads.push(decoder.decode(chunk, { stream: true }));
    expect(reads.join("")).toContain(`your key is ${key}.`);
    expect(reads.some((r) => r.includes(key))).toBe(false);
  });

  it("fails with the provider's error shape and retry-after", async () => {
    mocks.setBehaviour({ fail: { status: 503, retryAfterS: 7 } }, "anthropic");
    const client = anthropicClient(fakeKey("sk-ant-test-"));
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
    expect((err as InstanceType<typeof Anthropic.APIError>).headers?.get("retry-after")).toBe("7");
  });

  it("paces stream chunks and resolves `finished` after the last one", async () => {
    mocks.setBehaviour({ chunkDelayMs: 30 }, "anthropic");
    const next = mocks.nextRequest();
    const client = anthropicClient(fakeKey("sk-ant-test-"));
    const stream = client.messages.stream({
      model: "claude-mock",
      max_tokens: 5,
      messages: [{ role: "user", content: "x" }],
    });
    const record = await next;
    let finishedEarly = false;
    void record.finished.then(() => {
      finishedEarly = true;
    });
    const events: string[] = [];
    for await (const e of stream) {
      if (events.length === 0) expect(finishedEarly).toBe(false);
      events.push(e.type);
    }
    await record.finished;
    expect(events.at(-1)).toBe("message_stop");
  });

  it("hangs until the client gives up, and close() ends hung answers", async () => {
    mocks.setBehaviour({ hang: "headers" }, "google");
    const next = mocks.nextRequest();
    const aborted = fetch(`${mocks.googleUrl}/v1beta/models`, {
      headers: { "x-goog-api-key": fakeKey("AIza-test-") },
      signal: AbortSignal.timeout(200),
    }).catch((e: unknown) => (e as Error).name);
    expect(await aborted).toBe("TimeoutError");
    await (await next).finished;
  });
});
