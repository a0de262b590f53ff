import { describe, expect, it } from "vitest";
import { GatewayError } from "../../gateway/errors.ts";
import { applyGuards } from "../../gateway/providers/guards.ts";
import type { Guards, ProviderApi } from "../../policies/types.ts";

function guards(rules: Partial<Guards>): Guards {
  return { maxBodyBytes: 4 * 1024 * 1024, deny: new Set(), denyPatterns: [], ...rules };
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

function expectGuard(error: GatewayError, guard: string, detail: string): void {
  expect({ status: error.status, slug: error.slug, guard: error.guard, detail: error.detail }).toEqual({
    status: 400,
    slug: "guard-rejected",
    guard,
    detail: `request rejected by guard ${guard}: ${detail}`,
  });
}

const CHAT = "/chat/completions";
const chat = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hello" }] };
const GEMINI = "/v1beta/models/gemini-2.0-flash:generateContent";

describe("applyGuards: bodies", () => {
  const strict = guards({ maxMessages: 10 });

  it("passes any body when no guard is configured", () => {
    expect(applyGuards("openai", CHAT, "not json", guards({}))).toEqual({ body: "not json", changed: false });
  });

  it("passes a request without a body", () => {
    expect(applyGuards("openai", "/models", undefined, strict)).toEqual({ body: undefined, changed: false });
  });

  it.each([
    ["text that is not JSON", "hello"],
    ["bytes that are not JSON", new TextEncoder().encode("{oops")],
    ["a JSON array", [chat]],
    ["JSON null", null],
    ["a JSON string in bytes", new TextEncoder().encode('"hi"')],
  ])("rejects %s with 400 bad-request", (_name, body) => {
    const error = rejection(() => applyGuards("openai", CHAT, body, strict));
    expect([error.status, error.slug, error.guard, error.detail]).toEqual([
      400,
      "bad-request",
      undefined,
      "this provider has request guards, so the request body must be a JSON object; send the SDK's usual JSON body",
    ]);
  });

  it("checks a body given as JSON text and returns it as given when allowed", () => {
    const text = JSON.stringify(chat);
    expect(applyGuards("openai", CHAT, text, strict)).toEqual({ body: text, changed: false });
  });
});

describe("applyGuards: model", () => {
  const onlyMini = guards({
    modelAllowed: (model) => model.endsWith("-mini") || model.startsWith("gemini-2.0"),
  });

  it("passes an allowed model unchanged", () => {
    expect(applyGuards("openai", CHAT, chat, onlyMini)).toEqual({ body: chat, changed: false });
  });

  it("rejects a model outside the allowlist", () => {
    const error = rejection(() => applyGuards("openai", CHAT, { ...chat, model: "gpt-4o" }, onlyMini));
    expectGuard(error, "model", 'model "gpt-4o" is not allowed; use a model the policy allows');
  });

  it("rejects a model that is not a string", () => {
    const error = rejection(() =>
      applyGuards("anthropic", "/v1/messages", { ...chat, model: ["x"] }, onlyMini),
    );
    expectGuard(error, "model", "model must be a string naming an allowed model");
  });

  it("checks google's model from the path, not the body", () => {
    expect(applyGuards("google", GEMINI, { model: "gemini-2.5-pro", contents: [] }, onlyMini).changed).toBe(
      false,
    );
    const error = rejection(() =>
      applyGuards("google", "/v1beta/models/gemini-2.5-pro:generateContent", {}, onlyMini),
    );
    expectGuard(error, "model", 'model "gemini-2.5-pro" is not allowed; use a model the policy allows');
  });
});

describe("applyGuards: max-messages", () => {
  const two = guards({ maxMessages: 2 });
  const turns = (n: number) => Array.from({ length: n }, () => ({ role: "user", content: "x" }));

  it.each([
    ["openai", CHAT, (n: number) => ({ model: "m", messages: turns(n) })],
    ["openai", "/responses", (n: number) => ({ model: "m", input: turns(n) })],
    ["anthropic", "/v1/messages", (n: number) => ({ model: "m", max_tokens: 5, messages: turns(n) })],
    [
      "google",
      GEMINI,
      (n: number) => ({ contents: Array.from({ length: n }, () => ({ parts: [{ text: "x" }] })) }),
    ],
  ] as const)("%s %s: allows the limit, rejects one more", (api, path, make) => {
    expect(applyGuards(api, path, make(2), two).changed).toBe(false);
    const error = rejection(() => applyGuards(api, path, make(3), two));
    expectGuard(error, "max-messages", "the request has 3 messages, more than 2; send at most 2");
  });
});

describe("applyGuards: deny", () => {
  const deny = (feature: Guards["deny"] extends ReadonlySet<infer F> ? F : never) =>
    guards({ deny: new Set([feature]) });
  const fn = { type: "function", function: { name: "f", parameters: {} } };

  const violations: [string, ProviderApi, string, unknown, string][] = [
    ["tools", "openai", CHAT, { ...chat, tools: [fn] }, "tools are not allowed; remove the tools field"],
    [
      "tools",
      "anthropic",
      "/v1/messages",
      { ...chat, tools: [{ name: "t", input_schema: {} }] },
      "tools are not allowed; remove the tools field",
    ],
    [
      "tools",
      "google",
      GEMINI,
      { contents: [], tools: [{ googleSearch: {} }] },
      "tools are not allowed; remove the tools field",
    ],
    [
      "functions",
      "openai",
      CHAT,
      { ...chat, functions: [{ name: "f" }] },
      "function calling is not allowed; remove the function definitions",
    ],
    [
      "functions",
      "openai",
      "/responses",
      { model: "m", tools: [{ type: "function", name: "f" }] },
      "function calling is not allowed; remove the function definitions",
    ],
    [
      "functions",
      "anthropic",
      "/v1/messages",
      { ...chat, tools: [{ name: "t", input_schema: {} }] },
      "function calling is not allowed; remove the function definitions",
    ],
    [
      "functions",
      "google",
      GEMINI,
      { tools: [{ functionDeclarations: [{ name: "f" }] }] },
      "function calling is not allowed; remove the function definitions",
    ],
    [
      "logit_bias",
      "openai",
      CHAT,
      { ...chat, logit_bias: { "50256": -100 } },
      "logit_bias is not allowed; remove it",
    ],
    [
      "logprobs",
      "openai",
      CHAT,
      { ...chat, logprobs: true },
      "log probabilities are not allowed; remove logprobs/top_logprobs",
    ],
    [
      "logprobs",
      "openai",
      "/responses",
      { model: "m", top_logprobs: 3 },
      "log probabilities are not allowed; remove logprobs/top_logprobs",
    ],
    [
      "logprobs",
      "google",
      GEMINI,
      { generationConfig: { responseLogprobs: true } },
      "log probabilities are not allowed; remove logprobs/top_logprobs",
    ],
    ["n", "openai", CHAT, { ...chat, n: 2 }, "more than one choice is not allowed; set n (and best_of) to 1"],
    [
      "n",
      "openai",
      "/completions",
      { model: "m", prompt: "x", best_of: 3 },
      "more than one choice is not allowed; set n (and best_of) to 1",
    ],
    [
      "n",
      "google",
      GEMINI,
      { generationConfig: { candidateCount: 2 } },
      "more than one candidate is not allowed; set candidateCount to 1",
    ],
  ];
  it.each(violations)("deny:%s rejects %s %s", (feature, api, path, body, detail) => {
    const error = rejection(() => applyGuards(api, path, body, deny(feature as "n")));
    expectGuard(error, `deny:${feature}`, detail);
  });

  const allowed: [string, ProviderApi, string, unknown][] = [
    ["tools", "openai", CHAT, { ...chat, tools: [] }],
    ["functions", "openai", "/responses", { model: "m", tools: [{ type: "web_search" }] }],
    [
      "functions",
      "anthropic",
      "/v1/messages",
      { ...chat, tools: [{ type: "web_search_20250305", name: "web_search" }] },
    ],
    ["functions", "google", GEMINI, { tools: [{ googleSearch: {} }] }],
    ["logit_bias", "openai", CHAT, { ...chat, logit_bias: {} }],
    ["logprobs", "openai", CHAT, { ...chat, logprobs: false, top_logprobs: 0 }],
    ["n", "openai", CHAT, { ...chat, n: 1 }],
    ["n", "google", GEMINI, { generationConfig: { candidateCount: 1 } }],
  ];
  it.each(allowed)("deny:%s allows %s %s bodies that do not use it", (feature, api, path, body) => {
    expect(applyGuards(api, path, body, deny(feature as "n"))).toEqual({ body, changed: false });
  });
});

describe("applyGuards: pattern", () => {
  const secret = guards({ denyPatterns: [{ name: "ssn", regex: /\b\d{3}-\d{2}-\d{4}\b/g }] });
  const ssn = "my number is 123-45-6789";

  it.each([
    ["openai system message", "openai", CHAT, { model: "m", messages: [{ role: "system", content: ssn }] }],
    [
      "openai text part",
      "openai",
      CHAT,
      { model: "m", messages: [{ role: "user", content: [{ type: "text", text: ssn }] }] },
    ],
    ["openai responses instructions", "openai", "/responses", { model: "m", instructions: ssn, input: "hi" }],
    [
      "openai responses input part",
      "openai",
      "/responses",
      { model: "m", input: [{ role: "user", content: [{ type: "input_text", text: ssn }] }] },
    ],
    ["anthropic system", "anthropic", "/v1/messages", { model: "m", system: ssn, messages: [] }],
    [
      "anthropic tool result",
      "anthropic",
      "/v1/messages",
      { model: "m", messages: [{ role: "user", content: [{ type: "tool_result", content: ssn }] }] },
    ],
    [
      "google system instruction",
      "google",
      GEMINI,
      { systemInstruction: { parts: [{ text: ssn }] }, contents: [] },
    ],
    ["google content part", "google", GEMINI, { contents: [{ role: "user", parts: [{ text: ssn }] }] }],
  ] as const)("rejects a match in the %s without echoing it", (_where, api, path, body) => {
    const error = rejection(() => applyGuards(api, path, body, secret));
    expectGuard(error, "pattern:ssn", 'message text matches deny pattern "ssn"; remove that content');
    expect(error.detail).not.toContain("123-45");
  });

  it("matches on every call even with a /g regex", () => {
    const body = { model: "m", messages: [{ role: "user", content: ssn }] };
    for (let i = 0; i < 3; i++)
      expect(rejection(() => applyGuards("openai", CHAT, body, secret)).guard).toBe("pattern:ssn");
  });

  it("passes text that does not match, unchanged", () => {
    expect(applyGuards("openai", CHAT, chat, secret)).toEqual({ body: chat, changed: false });
  });
});

describe("applyGuards: google accepts snake_case too", () => {
  it("deny:n sees candidate_count in generation_config", () => {
    const body = { generationConfig: { temperature: 1 }, generation_config: { candidate_count: 4 } };
    const error = rejection(() => applyGuards("google", GEMINI, body, guards({ deny: new Set(["n"]) })));
    expect(error.guard).toBe("deny:n");
  });

  it("pattern guards read system_instruction", () => {
    const body = { system_instruction: { parts: [{ text: "top secret" }] }, contents: [] };
    const secret = guards({ denyPatterns: [{ name: "secret", regex: /secret/ }] });
    expect(rejection(() => applyGuards("google", GEMINI, body, secret)).guard).toBe("pattern:secret");
  });

  it("pattern guards read anthropic plain-text documents", () => {
    const doc = { type: "document", source: { type: "text", media_type: "text/plain", data: "top secret" } };
    const body = { model: "m", max_tokens: 5, messages: [{ role: "user", content: [doc] }] };
    const secret = guards({ denyPatterns: [{ name: "secret", regex: /secret/ }] });
    expect(rejection(() => applyGuards("anthropic", "/v1/messages", body, secret)).guard).toBe(
      "pattern:secret",
    );
  });
});
