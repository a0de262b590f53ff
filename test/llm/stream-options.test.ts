import { describe, expect, it } from "vitest";
import { ensureStreamUsage } from "../../gateway/providers/stream-options.ts";

const chat = { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hi" }] };

describe("ensureStreamUsage", () => {
  it("asks for usage on a chat stream and says to drop the extra chunk", () => {
    const result = ensureStreamUsage("openai", chat);
    expect(result).toEqual({
      body: { ...chat, stream_options: { include_usage: true } },
      changed: true,
      dropUsageChunk: true,
    });
    expect(chat).not.toHaveProperty("stream_options");
  });

  it("keeps the client's other stream options", () => {
    const body = { ...chat, stream_options: { include_obfuscation: false } };
    expect(ensureStreamUsage("openai", body).body).toEqual({
      ...chat,
      stream_options: { include_obfuscation: false, include_usage: true },
    });
  });

  it("overrides include_usage: false and drops the chunk again", () => {
    const result = ensureStreamUsage("openai", { ...chat, stream_options: { include_usage: false } });
    expect(result.changed).toBe(true);
    expect(result.dropUsageChunk).toBe(true);
  });

  it("leaves a body that already asks for usage alone", () => {
    const body = { ...chat, stream_options: { include_usage: true } };
    expect(ensureStreamUsage("openai", body)).toEqual({ body, changed: false, dropUsageChunk: false });
  });

  it("asks for usage on a legacy completions stream", () => {
    expect(ensureStreamUsage("openai", { model: "m", stream: true, prompt: "x" }).changed).toBe(true);
  });

  it.each([
    ["a non-stream request", "openai", { ...chat, stream: false }],
    ["a Responses API stream (usage always sent)", "openai", { model: "gpt-4.1", stream: true, input: "hi" }],
    ["an invalid stream_options", "openai", { ...chat, stream_options: "yes" }],
    ["an anthropic stream", "anthropic", { ...chat }],
    ["a google request", "google", { ...chat }],
    ["a non-object body", "openai", "data"],
  ] as const)("leaves %s unchanged", (_name, api, body) => {
    expect(ensureStreamUsage(api, body)).toEqual({ body, changed: false, dropUsageChunk: false });
  });
});
