import { describe, expect, it } from "vitest";
import { GatewayError } from "../../gateway/errors.ts";
import { applyGuards } from "../../gateway/providers/guards.ts";
import type { Guards, MaxTokensAction } from "../../policies/types.ts";

function cap(action: MaxTokensAction, limit = 1000): Guards {
  return { maxBodyBytes: 4 * 1024 * 1024, deny: new Set(), denyPatterns: [], maxTokens: { limit, action } };
}

function rejection(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected a GatewayError, nothing was thrown");
}

const CHAT = "/chat/completions";
const GEMINI = "/v1beta/models/gemini-2.0-flash:streamGenerateContent";
const chat = { model: "gpt-4o-mini", temperature: 0.5, messages: [{ role: "user", content: "hello" }] };

describe("max-tokens: reject", () => {
  it.each([
    ["openai", CHAT, { ...chat, max_tokens: 5000 }, "max_tokens is 5000"],
    ["openai", CHAT, { ...chat, max_completion_tokens: 1001 }, "max_completion_tokens is 1001"],
    [
      "openai",
      "/responses",
      { model: "m", input: "x", max_output_tokens: 2000 },
      "max_output_tokens is 2000",
    ],
    ["anthropic", "/v1/messages", { model: "m", max_tokens: 4096, messages: [] }, "max_tokens is 4096"],
    ["google", GEMINI, { generationConfig: { maxOutputTokens: 8192 } }, "maxOutputTokens is 8192"],
    ["openai", CHAT, { ...chat, max_tokens: "5000" }, "max_tokens is not a whole number"],
  ] as const)("%s %s: rejects an output cap above the limit", (api, path, body, what) => {
    const error = rejection(() => applyGuards(api, path, body, cap("reject")));
    const field = what.split(" ")[0];
    expect([error.status, error.slug, error.guard, error.detail]).toEqual([
      400,
      "guard-rejected",
      "max-tokens",
      `request rejected by guard max-tokens: ${what}, above the limit of 1000; set ${field} to at most 1000`,
    ]);
  });

  it("passes a cap at the limit unchanged", () => {
    const body = { ...chat, max_completion_tokens: 1000 };
    expect(applyGuards("openai", CHAT, body, cap("reject"))).toEqual({ body, changed: false });
  });
});

describe("max-tokens: clamp", () => {
  it("lowers only the max tokens field and leaves the input untouched", () => {
    const body = { ...chat, max_tokens: 5000 };
    const result = applyGuards("openai", CHAT, body, cap("clamp"));
    expect(result).toEqual({ body: { ...chat, max_tokens: 1000 }, changed: true });
    expect(body.max_tokens).toBe(5000);
  });

  it("lowers every openai cap field that is too high", () => {
    const body = { ...chat, max_tokens: 1200, max_completion_tokens: 3000 };
    expect(applyGuards("openai", CHAT, body, cap("clamp")).body).toEqual({
      ...chat,
      max_tokens: 1000,
      max_completion_tokens: 1000,
    });
  });

  it("lowers anthropic max_tokens", () => {
    const body = { model: "m", max_tokens: 4096, system: "s", messages: [] };
    expect(applyGuards("anthropic", "/v1/messages", body, cap("clamp"))).toEqual({
      body: { ...body, max_tokens: 1000 },
      changed: true,
    });
  });

  it("lowers google maxOutputTokens and keeps the rest of generationConfig", () => {
    const body = { contents: [], generationConfig: { temperature: 0.1, maxOutputTokens: 9000 } };
    expect(applyGuards("google", GEMINI, body, cap("clamp"))).toEqual({
      body: { contents: [], generationConfig: { temperature: 0.1, maxOutputTokens: 1000 } },
      changed: true,
    });
    expect(body.generationConfig.maxOutputTokens).toBe(9000);
  });

  it("lowers google's snake_case generation_config in place", () => {
    const body = { generation_config: { max_output_tokens: 9000 } };
    expect(applyGuards("google", GEMINI, body, cap("clamp")).body).toEqual({
      generation_config: { max_output_tokens: 1000 },
    });
  });

  it("passes a cap below the limit unchanged", () => {
    const body = { ...chat, max_completion_tokens: 10 };
    expect(applyGuards("openai", CHAT, body, cap("clamp"))).toEqual({ body, changed: false });
  });
});

describe("max-tokens: no cap in the request", () => {
  it.each([
    ["reject", "openai", CHAT, chat, { ...chat, max_completion_tokens: 1000 }],
    ["clamp", "openai", CHAT, chat, { ...chat, max_completion_tokens: 1000 }],
    [
      "clamp",
      "openai",
      "/responses",
      { model: "m", input: "x" },
      { model: "m", input: "x", max_output_tokens: 1000 },
    ],
    [
      "clamp",
      "openai",
      "/completions",
      { model: "m", prompt: "x" },
      { model: "m", prompt: "x", max_tokens: 1000 },
    ],
    [
      "clamp",
      "anthropic",
      "/v1/messages",
      { model: "m", messages: [] },
      { model: "m", messages: [], max_tokens: 1000 },
    ],
    [
      "clamp",
      "google",
      GEMINI,
      { contents: [] },
      { contents: [], generationConfig: { maxOutputTokens: 1000 } },
    ],
  ] as const)("%s: %s %s gets the limit as its cap", (action, api, path, body, expected) => {
    expect(applyGuards(api, path, body, cap(action))).toEqual({ body: expected, changed: true });
  });

  it.each([
    ["openai", "/embeddings", { model: "e", input: "x" }],
    ["anthropic", "/v1/messages/count_tokens", { model: "m", messages: [] }],
    ["google", "/v1beta/models/text-embedding-004:embedContent", { content: { parts: [] } }],
  ] as const)("leaves %s %s (no output) unchanged", (api, path, body) => {
    expect(applyGuards(api, path, body, cap("clamp"))).toEqual({ body, changed: false });
  });
});

describe("max-tokens: google's two spellings of generationConfig", () => {
  it("adds the cap to a snake_case generation_config that has none", () => {
    const body = { generation_config: { temperature: 0.3 } };
    expect(applyGuards("google", GEMINI, body, cap("clamp")).body).toEqual({
      generation_config: { temperature: 0.3, maxOutputTokens: 1000 },
    });
  });

  it("caps both spellings when both are sent", () => {
    const body = {
      generationConfig: { maxOutputTokens: 10 },
      generation_config: { max_output_tokens: 99999 },
    };
    expect(applyGuards("google", GEMINI, body, cap("clamp")).body).toEqual({
      generationConfig: { maxOutputTokens: 10 },
      generation_config: { max_output_tokens: 1000 },
    });
    const error = rejection(() => applyGuards("google", GEMINI, body, cap("reject")));
    expect(error.guard).toBe("max-tokens");
  });
});
