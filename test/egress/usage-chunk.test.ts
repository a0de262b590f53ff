/**
 * Issue 4: with a token limit keygate asks OpenAI for stream usage
 * (`stream_options.include_usage`) to settle the reservation, and removes the
 * usage-only chunk again for a client that did not ask for it: that client
 * sees exactly the stream it asked for, one that asked sees the usage.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { postJson } from "../e2e-helpers/http.ts";
import { openaiClient } from "../e2e-helpers/sdk-clients.ts";

let env: EgressEnv;
beforeAll(async () => {
  env = await startEgressEnv({
    extra: "limits:\n  - { name: openai-tokens, scope: openai, per: user, tokens: 100000/1m }",
  });
});
afterEach(() => env.assertLogsClean());
afterAll(async () => {
  await env.stop();
});

/** The `data:` payloads of an SSE body, parsed (`[DONE]` kept as a string). */
function events(text: string): unknown[] {
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice(6))
    .map((data) => (data === "[DONE]" ? data : JSON.parse(data)));
}

const isUsageChunk = (e: unknown) =>
  typeof e === "object" &&
  e !== null &&
  Array.isArray((e as { choices: unknown[] }).choices) &&
  (e as { choices: unknown[] }).choices.length === 0;

async function stream(jwt: string, streamOptions: Record<string, unknown> | undefined) {
  const seen = env.mocks.nextRequest();
  const body = {
    model: "gpt-mock",
    stream: true,
    messages: [{ role: "user", content: "Hi" }],
    ...(streamOptions ? { stream_options: streamOptions } : {}),
  };
  const res = await postJson(`${env.egress}/openai/chat/completions`, body, {
    authorization: `Bearer ${jwt}`,
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, upstream: JSON.parse((await seen).body) as Record<string, unknown> };
}

describe("raw SSE", () => {
  test.each([
    ["no stream_options", undefined],
    ["include_usage: false", { include_usage: false }],
  ])(
    "%s: keygate asks upstream for usage, the client never sees the usage-only chunk",
    async (_, options) => {
      const user = await env.newUser();
      await env.storeKey(user, "openai");
      const { text, upstream } = await stream(user.jwt, options);

      expect(upstream["stream_options"]).toEqual({ include_usage: true });
      const got = events(text);
      expect(got.filter(isUsageChunk)).toEqual([]);
      expect(got.at(-1)).toBe("[DONE]");
      expect(got.length).toBe(6); // role, 3 pieces, finish, [DONE]
      expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    },
  );

  test("include_usage: true: the client sees the usage-only chunk, exactly once, before [DONE]", async () => {
    const user = await env.newUser();
    await env.storeKey(user, "openai");
    const { text, upstream } = await stream(user.jwt, { include_usage: true });

    expect(upstream["stream_options"]).toEqual({ include_usage: true });
    const got = events(text);
    const usage = got.filter(isUsageChunk);
    expect(usage.length).toBe(1);
    expect((usage[0] as { usage: unknown }).usage).toEqual({
      prompt_tokens: 11,
      completion_tokens: 7,
      total_tokens: 18,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(got.at(-2)).toBe(usage[0]);
    expect(got.at(-1)).toBe("[DONE]");
  });
});

describe("openai SDK", () => {
  test("without include_usage no chunk carries usage; with it the last one does", async () => {
    const user = await env.newUser();
    await env.storeKey(user, "openai");
    const client = openaiClient(env.egress, user.jwt);
    const request = {
      model: "gpt-mock",
      stream: true as const,
      messages: [{ role: "user" as const, content: "Hi" }],
    };

    const plain = [];
    for await (const chunk of await client.chat.completions.create(request)) plain.push(chunk);
    expect(plain.filter((c) => c.usage)).toEqual([]);
    expect(plain.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Hello from mock");

    const asked = [];
    for await (const chunk of await client.chat.completions.create({
      ...request,
      stream_options: { include_usage: true },
    })) {
      asked.push(chunk);
    }
    expect(asked.at(-1)?.usage?.total_tokens).toBe(18);
    expect(asked.at(-1)?.choices).toEqual([]);
  });
});
