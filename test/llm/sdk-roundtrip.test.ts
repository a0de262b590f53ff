/**
 * The official SDKs against a local server on port 0: what they send is read
 * by describeRequest/ensureStreamUsage, and what keygate forwards after the
 * usage observer (with the usage-only chunk removed) is parsed by the SDK.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { describeRequest } from "../../gateway/providers/estimate.ts";
import { ensureStreamUsage } from "../../gateway/providers/stream-options.ts";
import { createUsageObserver, type UsageObserver } from "../../gateway/providers/usage/index.ts";
import type { ProviderApi } from "../../policies/types.ts";
import { anthropicEvents, done, googleChunks, openaiChatEvents, openaiUsageChunk, sse } from "./fixtures.ts";

interface Seen {
  path: string;
  body: unknown;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

/** Serves `answer` split into small chunks, each passed through the observer made for the request. */
async function serve(
  answer: string,
  observerFor: (seen: Seen) => UsageObserver,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer(async (req, res) => {
    const entry = { path: (req.url ?? "").split("?")[0]!, body: await readBody(req) };
    seen.push(entry);
    const observer = observerFor(entry);
    res.writeHead(200, { "content-type": "text/event-stream" });
    const bytes = Buffer.from(answer);
    for (let i = 0; i < bytes.length; i += 37) res.write(observer.push(bytes.subarray(i, i + 37)));
    res.end(observer.end());
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

const fakeKey = () => `test-${randomBytes(16).toString("hex")}`;

function sseObserver(api: ProviderApi, dropUsageChunk: boolean, out: UsageObserver[]) {
  return () => {
    const observer = createUsageObserver(api, {
      stream: true,
      dropUsageChunk,
      contentType: "text/event-stream",
    });
    out.push(observer);
    return observer;
  };
}

describe("official SDKs", () => {
  it("openai: the chat stream parses without the usage-only chunk keygate asked for", async () => {
    const observers: UsageObserver[] = [];
    const { url, seen } = await serve(
      sse([...openaiChatEvents, openaiUsageChunk, done]),
      sseObserver("openai", true, observers),
    );
    const client = new OpenAI({ apiKey: fakeKey(), baseURL: url, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      max_completion_tokens: 64,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello" },
      ],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe('say "prompt_tokens": 99');
    expect(chunks.filter((c) => c.usage)).toEqual([]);
    expect(observers[0]!.usage()).toEqual({ input: 15, output: 10, cached: 4 });
    expect(seen[0]!.path).toBe("/chat/completions");
    expect(describeRequest("openai", seen[0]!.path, seen[0]!.body)).toEqual({
      api: "openai",
      model: "gpt-4o-mini",
      stream: true,
      maxTokens: 64,
      messages: 2,
      promptChars: 14,
    });
    expect(ensureStreamUsage("openai", seen[0]!.body).dropUsageChunk).toBe(true);
  });

  it("anthropic: the SDK's final usage matches the observer's", async () => {
    const observers: UsageObserver[] = [];
    const { url, seen } = await serve(sse(anthropicEvents), sseObserver("anthropic", false, observers));
    const client = new Anthropic({ apiKey: fakeKey(), baseURL: url, maxRetries: 0 });
    const message = await client.messages
      .stream({
        model: "claude-sonnet-5-5",
        max_tokens: 256,
        system: "sys",
        messages: [{ role: "user", content: "Hi" }],
      })
      .finalMessage();

    expect([message.usage.input_tokens, message.usage.output_tokens]).toEqual([25, 15]);
    expect(observers[0]!.usage()).toEqual({ input: 125, output: 15, cached: 400 });
    expect(seen[0]!.path).toBe("/v1/messages");
    expect(describeRequest("anthropic", seen[0]!.path, seen[0]!.body)).toEqual({
      api: "anthropic",
      model: "claude-sonnet-5-5",
      stream: true,
      maxTokens: 256,
      messages: 1,
      promptChars: 5,
    });
  });

  it("google: model and stream come from the path the SDK calls", async () => {
    const observers: UsageObserver[] = [];
    const { url, seen } = await serve(
      sse(
        googleChunks.map((data) => ({ data })),
        "\r\n",
      ),
      sseObserver("google", false, observers),
    );
    const client = new GoogleGenAI({ apiKey: fakeKey(), httpOptions: { baseUrl: url } });
    const stream = await client.models.generateContentStream({
      model: "gemini-2.0-flash",
      contents: "Hello",
      config: { maxOutputTokens: 50, systemInstruction: "sys" },
    });
    let last: unknown;
    for await (const chunk of stream) last = chunk.usageMetadata;

    expect(last).toMatchObject({ promptTokenCount: 8, candidatesTokenCount: 12 });
    expect(observers[0]!.usage()).toEqual({ input: 5, output: 17, cached: 3 });
    expect(seen[0]!.path).toMatch(/\/models\/gemini-2\.0-flash:streamGenerateContent$/);
    expect(describeRequest("google", seen[0]!.path, seen[0]!.body)).toEqual({
      api: "google",
      model: "gemini-2.0-flash",
      stream: true,
      maxTokens: 50,
      messages: 1,
      promptChars: 8,
    });
  });
});
