import { describe, expect, it } from "vitest";
import { compilePathGlobs, compileWildcards } from "../../policies/glob.ts";

describe("path globs", () => {
  const cases: [string, string, boolean][] = [
    ["/api/v1/login/*", "/api/v1/login/google", true],
    ["/api/v1/login/*", "/api/v1/login", false],
    ["/api/v1/login/*", "/api/v1/login/", false],
    ["/api/v1/login/*", "/api/v1/login/a/b", false],
    ["/api/v1/login/*", "/api/v1/loginx/a", false],
    ["/api/*/users", "/api/v2/users", true],
    ["/api/*/users", "/api/v2/users/1", false],
    ["/api/**", "/api", true],
    ["/api/**", "/api/a/b/c", true],
    ["/api/**", "/apix", false],
    ["/api/**/export", "/api/export", true],
    ["/api/**/export", "/api/a/b/export", true],
    ["/api/**/export", "/api/a/b/exports", false],
    ["/**", "/anything/at/all", true],
    ["/openapi.json", "/openapi.json", true],
    ["/openapi.json", "/openapiXjson", false],
    ["/docs", "/docs", true],
    ["/docs", "/docs/x", false],
    ["/docs", "/doc", false],
    ["/files/*.json", "/files/a.json", true],
    ["/files/*.json", "/files/a/b.json", false],
    ["/v1/chat/completions", "/v1/chat/completions", true],
    ["/a+b/(c)", "/a+b/(c)", true],
    ["/a+b/(c)", "/aab/c", false],
  ];
  for (const [glob, path, expected] of cases)
    it(`${glob} ${expected ? "matches" : "does not match"} ${path}`, () => {
      expect(compilePathGlobs([glob]).test(path)).toBe(expected);
    });

  it("matches any of several globs with one RegExp", () => {
    const re = compilePathGlobs(["/docs", "/api/v1/login/*"]);
    expect([re.test("/docs"), re.test("/api/v1/login/x"), re.test("/api/v1/users")]).toEqual([
      true,
      true,
      false,
    ]);
  });
});

describe("model wildcards", () => {
  const allowed = compileWildcards(["gpt-4o*", "claude-3.5-sonnet"]);
  it("treats * as any run of characters and the rest literally", () => {
    expect(allowed("gpt-4o")).toBe(true);
    expect(allowed("gpt-4o-mini-2024-07-18")).toBe(true);
    expect(allowed("claude-3.5-sonnet")).toBe(true);
    expect(allowed("claude-3x5-sonnet")).toBe(false);
    expect(allowed("my-gpt-4o")).toBe(false);
  });
});
