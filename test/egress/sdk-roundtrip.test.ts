/**
 * Issue 3: the official SDKs, unchanged, with the user's JWT as API key. The
 * provider sees the user's stored key in its own slot and never the JWT; the
 * SDK gets the answer intact, plain and streamed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { anthropicClient, expectNoJwt, googleClient, openaiClient } from "../e2e-helpers/sdk-clients.ts";

let env: EgressEnv;
beforeAll(async () => {
  env = await startEgressEnv();
});
afterEach(() => env.assertLogsClean());
afterAll(async () => {
  await env.stop();
});

describe("openai SDK", () => {
  test("plain chat completion: Bearer <stored key> upstream, answer intact", async () => {
    const user = await env.newUser();
    const key = await env.storeKey(user, "openai");
    const seen = env.mocks.nextRequest();
    const answer = await openaiClient(env.egress, user.jwt).chat.completions.create({
      model: "gpt-mock",
      messages: [{ role: "user", content: "Hi" }],
    });
    const request = await seen;

    expect(answer.choices[0]?.message.content).toBe("Hello from mock");
    expect(answer.usage).toEqual({
      prompt_tokens: 11,
      completion_tokens: 7,
      total_tokens: 18,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(request.provider).toBe("openai");
    expect(request.url).toBe("/v1/chat/completions");
    expect(request.headers.authorization).toBe(`Bearer ${key}`);
    expect(request.key).toBe(key);
    expect(JSON.parse(request.body)).toEqual({
      model: "gpt-mock",
      messages: [{ role: "user", content: "Hi" }],
    });
    expectNoJwt(request, user.jwt);
  });

  test("streamed chat completion: every delta arrives in order", async () => {
    const user = await env.newUser();
    const key = await env.storeKey(user, "openai");
    const seen = env.mocks.nextRequest();
    const stream = await openaiClient(env.egress, user.jwt).chat.completions.create({
      model: "gpt-mock",
      stream: true,
      messages: [{ role: "user", content: "Hi" }],
    });
    const deltas: string[] = [];
    for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta.content ?? "");
    const request = await seen;

    expect(deltas).toEqual(["", "Hello", " from", " mock", ""]);
    expect(request.key).toBe(key);
    expectNoJwt(request, user.jwt);
  });
});

describe("anthropic SDK", () => {
  test("plain message: x-api-key <stored key> upstream, answer intact", async () => {
    const user = await env.newUser();
    const key = await env.storeKey(user, "anthropic");
    const seen = env.mocks.nextRequest();
    const message = await anthropicClient(env.egress, user.jwt).messages.create({
      model: "claude-mock",
      max_tokens: 64,
      messages: [{ role: "user", content: "Hi" }],
    });
    const request = await seen;

    expect(message.content).toEqual([{ type: "text", text: "Hello from mock" }]);
    expect(message.usage.input_tokens).toBe(11);
    expect(message.usage.output_tokens).toBe(7);
    expect(request.provider).toBe("anthropic");
    expect(request.url).toBe("/v1/messages");
    expect(request.headers["x-api-key"]).toBe(key);
    expect(request.headers.authorization).toBeUndefined();
    expectNoJwt(request, user.jwt);
  });

  test("streamed message: text deltas and final usage", async () => {
    const user = await env.newUser();
    const key = await env.storeKey(user, "anthropic");
    const seen = env.mocks.nextRequest();
    const stream = anthropicClient(env.egress, user.jwt).messages.stream({
      model: "claude-mock",
      max_tokens: 64,
      messages: [{ role: "user", content: "Hi" }],
    });
    const texts: string[] = [];
    stream.on("text", (text) => texts.push(text));
    const final = await stream.finalMessage();
    const request = await seen;

    expect(texts).toEqual(["Hello", " from", " mock"]);
    expect(final.usage.output_tokens).toBe(7);
    expect(request.key).toBe(key);
    expectNoJwt(request, user.jwt);
  });
});

describe("google SDK", () => {
  test("plain generateContent: x-goog-api-key <stored key> upstream, answer intact", async () => {
    const user = await env.newUser();
    const key = await env.storeKey(user, "google");
    const seen = env.mocks.nextRequest();
    const answer = await googleClient(env.egress, user.jwt).models.generateContent({
      model: "gemini-mock",
      contents: "Hi",
    });
    const request = await seen;

    expect(answer.text).toBe("Hello from mock");
    expect(answer.usageMetadata?.promptTokenCount).toBe(11);
    expect(answer.usageMetadata?.candidatesTokenCount).toBe(7);
    expect(request.provider).toBe("google");
    expect(request.url).toMatch(/^\/v1(beta)?\/models\/gemini-mock:generateContent$/);
    expect(request.headers["x-goog-api-key"]).toBe(key);
    expect(request.headers.authorization).toBeUndefined();
    expectNoJwt(request, user.jwt);
  });

  test("streamed generateContent: every chunk's text in order", async () => {
    const user = await env.newUser();
    const key = await env.storeKey(user, "google");
    const seen = env.mocks.nextRequest();
    const stream = await googleClient(env.egress, user.jwt).models.generateContentStream({
      model: "gemini-mock",
      contents: "Hi",
    });
    const texts: string[] = [];
    for await (const chunk of stream) texts.push(chunk.text ?? "");
    const request = await seen;

    expect(texts).toEqual(["Hello", " from", " mock"]);
    expect(request.url).toMatch(/^\/v1(beta)?\/models\/gemini-mock:streamGenerateContent\?alt=sse$/);
    expect(request.key).toBe(key);
    expectNoJwt(request, user.jwt);
  });
});
