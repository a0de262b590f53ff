import { describe, expect, it } from "vitest";
import { BASE, compileOk } from "./helpers.ts";

describe("providers", () => {
  it("has openai, anthropic and google with their defaults when the section is absent", () => {
    const providers = compileOk(BASE).providers;
    expect([...providers.keys()]).toEqual(["openai", "anthropic", "google"]);
    const summary = [...providers.values()].map((p) => [
      p.api,
      p.baseUrl,
      p.auth,
      p.verifyPath,
      p.keyPattern.source,
    ]);
    expect(summary).toEqual([
      ["openai", "https://api.openai.com/v1", "bearer", "/models", "^sk-[A-Za-z0-9_-]{20,}$"],
      ["anthropic", "https://api.anthropic.com", "x-api-key", "/v1/models", "^sk-ant-[A-Za-z0-9_-]{20,}$"],
      [
        "google",
        "https://generativelanguage.googleapis.com",
        "x-goog-api-key",
        "/v1beta/models",
        "^AIza[0-9A-Za-z_-]{35}$",
      ],
    ]);
    const openai = providers.get("openai");
    expect(openai?.timeoutMs).toBe(600_000);
    expect(openai?.keepHeaders).toEqual(new Set());
    expect(openai?.guards).toEqual({ maxBodyBytes: 4_194_304, deny: new Set(), denyPatterns: [] });
  });

  it("has exactly the listed providers when the section is present", () => {
    const policy = compileOk(`${BASE}providers:\n  anthropic: {}\n`);
    expect([...policy.providers.keys()]).toEqual(["anthropic"]);
  });

  it("gives other names OpenAI-compatible defaults and strips the base URL's trailing slash", () => {
    const policy = compileOk(`${BASE}providers:\n  local-llm: { base_url: "http://127.0.0.1:11434/v1/" }\n`);
    const p = policy.providers.get("local-llm");
    expect(p).toMatchObject({
      api: "openai",
      auth: "bearer",
      verifyPath: "/models",
      baseUrl: "http://127.0.0.1:11434/v1",
    });
    expect(p?.keyPattern.test(`key-${"x".repeat(20)}`)).toBe(true);
    expect(p?.keyPattern.test("short")).toBe(false);
    expect(p?.keyPattern.test("has space in it")).toBe(false);
  });

  it("applies overrides: anchored key pattern, lower-cased keep_headers, timeout", () => {
    const policy = compileOk(`${BASE}providers:
  openai:
    key_pattern: "sk-proj-[a-z]+"
    keep_headers: [OpenAI-Organization]
    timeout: 30s
`);
    const p = policy.providers.get("openai");
    expect(p?.keyPattern.test("sk-proj-abc")).toBe(true);
    expect(p?.keyPattern.test("xx-sk-proj-abc-yy")).toBe(false);
    expect(p?.keepHeaders).toEqual(new Set(["openai-organization"]));
    expect(p?.timeoutMs).toBe(30_000);
  });

  it("compiles guards once", () => {
    const policy = compileOk(`${BASE}providers:
  openai:
    guards:
      max_body: 512KiB
      max_messages: 50
      max_tokens: { limit: 4096, action: clamp }
      models: ["gpt-4o*"]
      deny: [tools, logit_bias]
      deny_patterns: [{ name: private-key, regex: "BEGIN [A-Z ]*PRIVATE KEY" }]
  anthropic:
    guards: { max_tokens: { limit: 1000 } }
`);
    const g = policy.providers.get("openai")?.guards;
    expect(g).toMatchObject({
      maxBodyBytes: 524_288,
      maxMessages: 50,
      maxTokens: { limit: 4096, action: "clamp" },
    });
    expect(g?.deny).toEqual(new Set(["tools", "logit_bias"]));
    // Assembled at run time so no tracked file holds a private-key header.
    const pemHeader = ["-----BEGIN", "RSA", "PRIVATE", "KEY-----"].join(" ");
    expect(g?.denyPatterns.map((d) => [d.name, d.regex.test(pemHeader)])).toEqual([["private-key", true]]);
    expect([g?.modelAllowed?.("gpt-4o-mini"), g?.modelAllowed?.("o1")]).toEqual([true, false]);
    expect(policy.providers.get("anthropic")?.guards.maxTokens).toEqual({ limit: 1000, action: "reject" });
  });
});

describe("provider entries without settings", () => {
  it("treats `openai:` with no value like `openai: {}`", () => {
    const policy = compileOk(`${BASE}providers:\n  openai:\n  google:\n`);
    expect([...policy.providers.keys()]).toEqual(["openai", "google"]);
    expect(policy.providers.get("google")?.baseUrl).toBe("https://generativelanguage.googleapis.com");
    expect(policy.providers.get("openai")?.timeoutMs).toBe(600_000);
  });
});
