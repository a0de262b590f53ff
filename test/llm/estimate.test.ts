import { describe, expect, it } from "vitest";
import { describeRequest, estimateTokens, type LlmRequestInfo } from "../../gateway/providers/estimate.ts";

describe("describeRequest: openai", () => {
  it("reads a chat completion with text parts and a system message", () => {
    const body = {
      model: "gpt-4o-mini",
      stream: true,
      max_completion_tokens: 300,
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "Hello" },
            { type: "image_url", image_url: { url: "x" } },
          ],
        },
        { role: "assistant", content: null, tool_calls: [] },
      ],
    };
    expect(describeRequest("openai", "/chat/completions", body)).toEqual({
      api: "openai",
      model: "gpt-4o-mini",
      stream: true,
      maxTokens: 300,
      messages: 3,
      promptChars: 14,
    });
  });

  it("reads the legacy max_tokens", () => {
    const info = describeRequest("openai", "/chat/completions", { model: "m", max_tokens: 50, messages: [] });
    expect(info.maxTokens).toBe(50);
  });

  it("reads a Responses API request: instructions, input items, max_output_tokens", () => {
    const body = {
      model: "gpt-4.1",
      instructions: "Be kind.",
      max_output_tokens: 1000,
      input: [
        { role: "user", content: [{ type: "input_text", text: "abcd" }] },
        { type: "function_call_output", call_id: "c1", output: "42" },
      ],
    };
    expect(describeRequest("openai", "/responses", body)).toEqual({
      api: "openai",
      model: "gpt-4.1",
      stream: false,
      maxTokens: 1000,
      messages: 2,
      promptChars: 14,
    });
  });

  it("counts a string input as one message", () => {
    const info = describeRequest("openai", "/responses", { model: "gpt-4.1", input: "hello" });
    expect([info.messages, info.promptChars, info.maxTokens]).toEqual([1, 5, undefined]);
  });

  it("treats embeddings as producing no output", () => {
    const info = describeRequest("openai", "/embeddings", {
      model: "text-embedding-3-small",
      input: ["ab", "cde"],
    });
    expect(info).toEqual({
      api: "openai",
      model: "text-embedding-3-small",
      stream: false,
      maxTokens: 0,
      messages: 2,
      promptChars: 5,
    });
  });
});

describe("describeRequest: anthropic", () => {
  it("reads system blocks, string and block content, tool results", () => {
    const body = {
      model: "claude-sonnet-5-5",
      max_tokens: 1024,
      stream: true,
      system: [{ type: "text", text: "sys" }],
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: [{ type: "text", text: "hey" }] },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: "done" }] }],
        },
      ],
    };
    expect(describeRequest("anthropic", "/v1/messages", body)).toEqual({
      api: "anthropic",
      model: "claude-sonnet-5-5",
      stream: true,
      maxTokens: 1024,
      messages: 3,
      promptChars: 12,
    });
  });

  it("treats count_tokens as producing no output", () => {
    const info = describeRequest("anthropic", "/v1/messages/count_tokens", { model: "m", messages: [] });
    expect(info.maxTokens).toBe(0);
  });
});

describe("describeRequest: google", () => {
  const body = {
    systemInstruction: { parts: [{ text: "sys" }] },
    contents: [
      { role: "user", parts: [{ text: "hello" }, { inlineData: { mimeType: "image/png", data: "AAAA" } }] },
      { role: "model", parts: [{ text: "hi" }] },
    ],
    generationConfig: { maxOutputTokens: 256, temperature: 0.2 },
  };

  it("takes model and stream from the path", () => {
    expect(describeRequest("google", "/v1beta/models/gemini-2.0-flash:streamGenerateContent", body)).toEqual({
      api: "google",
      model: "gemini-2.0-flash",
      stream: true,
      maxTokens: 256,
      messages: 2,
      promptChars: 10,
    });
  });

  it("is not a stream for generateContent, even if the body says stream", () => {
    const info = describeRequest("google", "/v1beta/models/gemini-2.5-pro:generateContent", {
      ...body,
      stream: true,
    });
    expect([info.model, info.stream]).toEqual(["gemini-2.5-pro", false]);
  });

  it("accepts snake_case generation_config", () => {
    const info = describeRequest("google", "/v1/models/g:generateContent", {
      generation_config: { max_output_tokens: 77 },
    });
    expect(info.maxTokens).toBe(77);
  });

  it("treats embedContent as producing no output", () => {
    const info = describeRequest("google", "/v1beta/models/text-embedding-004:embedContent", {
      content: { parts: [{ text: "abc" }] },
    });
    expect([info.maxTokens, info.promptChars]).toEqual([0, 3]);
  });
});

describe("describeRequest: bodies that are not JSON objects", () => {
  it.each([undefined, null, "text", [1, 2], 42])("yields empty facts for %j", (body) => {
    expect(describeRequest("openai", "/chat/completions", body)).toEqual({
      api: "openai",
      model: undefined,
      stream: false,
      maxTokens: undefined,
      messages: 0,
      promptChars: 0,
    });
  });
});

describe("estimateTokens", () => {
  const base: LlmRequestInfo = {
    api: "openai",
    model: "m",
    stream: false,
    maxTokens: undefined,
    messages: 1,
    promptChars: 0,
  };

  it("adds ceil(promptChars / 4) to the client's max tokens", () => {
    expect(estimateTokens({ ...base, promptChars: 9, maxTokens: 100 })).toBe(103);
  });

  it.each([
    ["openai", 4096],
    ["anthropic", 4096],
    ["google", 8192],
  ] as const)("uses the %s default cap of %i when max tokens is absent", (api, cap) => {
    expect(estimateTokens({ ...base, api, promptChars: 8 })).toBe(cap + 2);
  });

  it("reserves at least one token", () => {
    expect(estimateTokens({ ...base, maxTokens: 0 })).toBe(1);
  });

  it("reserves only the prompt on endpoints without output", () => {
    const info = describeRequest("openai", "/embeddings", { model: "e", input: "x".repeat(41) });
    expect(estimateTokens(info)).toBe(11);
  });
});
