import { describe, expect, it } from "vitest";
import { GatewayError } from "../../gateway/errors.ts";
import { keyParamValues, splitEgressTarget, upstreamUrl } from "../../gateway/providers/path.ts";

function rejection(target: string): { status: number; slug: string } {
  try {
    splitEgressTarget(target);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return { status: (err as GatewayError).status, slug: (err as GatewayError).slug };
  }
  throw new Error(`accepted: ${target}`);
}

describe("splitEgressTarget", () => {
  it.each([
    ["/openai/v1/chat/completions", "openai", "/v1/chat/completions", ""],
    ["/openai/v1/models/", "openai", "/v1/models/", ""],
    ["/openai", "openai", "/", ""],
    ["/openai/", "openai", "/", ""],
    ["/openai//v1///models", "openai", "/v1/models", ""],
    ["/openai//evil", "openai", "/evil", ""],
    ["/openai/v1/../v1/./models", "openai", "/v1/models", ""],
    ["/openai/v1/.", "openai", "/v1/", ""],
    ["/openai/a/%2E%2e/b", "openai", "/b", ""],
    ["/openai/%7e%41%2D%5F%2e9", "openai", "/~A-_.9", ""],
    ["/openai/files/%e2%82%ac", "openai", "/files/%E2%82%AC", ""],
    ["/openai/files/café €", "openai", "/files/caf%C3%A9%20%E2%82%AC", ""],
    ["/openai/files/a%20b:c@d", "openai", "/files/a%20b:c@d", ""],
    [
      "/google/v1beta/models/gemini:streamGenerateContent?alt=sse",
      "google",
      "/v1beta/models/gemini:streamGenerateContent",
      "?alt=sse",
    ],
  ])("%s → %s %s %s", (target, provider, path, query) => {
    expect(splitEgressTarget(target)).toEqual({ provider, path, query });
  });

  it("keeps `..` below the provider root and never switches provider", () => {
    expect(rejection("/openai/../anthropic/v1/messages")).toEqual({ status: 400, slug: "bad-request" });
    expect(rejection("/openai/v1/../../anthropic")).toEqual({ status: 400, slug: "bad-request" });
    expect(rejection("/openai/%2e%2e/anthropic")).toEqual({ status: 400, slug: "bad-request" });
    expect(rejection("/openai/%2E%2e/")).toEqual({ status: 400, slug: "bad-request" });
    expect(rejection("/../openai/v1")).toEqual({ status: 400, slug: "bad-request" });
    expect(rejection("/%2e%2e/openai/v1")).toEqual({ status: 400, slug: "bad-request" });
  });

  it.each([
    ["http://evil/x"],
    ["https://evil.example/openai/v1"],
    ["evil.example:443"],
    ["*"],
    [""],
    ["/openai/a%2fb"],
    ["/openai/a%2Fb"],
    ["/openai/a%5cb"],
    ["/openai/a\\b"],
    ["/openai/a%00b"],
    ["/openai/a\u0000b"],
    ["/openai/a\nb"],
    ["/openai/a%0Ab"],
    ["/openai/a%7fb"],
    ["/openai/a%zzb"],
    ["/openai/a%4"],
    ["/openai/x#frag"],
    ["/openai/x?a=%00"],
    ["/openai/x?a=b c"],
    ["/openai/\ud800x"],
  ])("refuses %j with 400 bad-request", (target) => {
    expect(rejection(target)).toEqual({ status: 400, slug: "bad-request" });
  });

  it("answers a target without a provider segment with 404 unknown-provider", () => {
    expect(rejection("/")).toEqual({ status: 404, slug: "unknown-provider" });
    expect(rejection("//")).toEqual({ status: 404, slug: "unknown-provider" });
  });

  it("takes `//evil.example/x` as provider `evil.example` (an unknown provider), not as a host", () => {
    expect(splitEgressTarget("//evil.example/x")).toEqual({
      provider: "evil.example",
      path: "/x",
      query: "",
    });
  });

  it("removes every `key` parameter, however encoded, and keeps the rest byte for byte", () => {
    const t = "/google/v1beta/models?key=jwt1&alt=sse&%6Bey=jwt2&keyx=1&k=a+b%2Fc&KEY=2&key";
    expect(splitEgressTarget(t).query).toBe("?alt=sse&keyx=1&k=a+b%2Fc&KEY=2");
    expect(splitEgressTarget("/google/x?key=jwt").query).toBe("");
    expect(splitEgressTarget("/google/x?").query).toBe("");
  });

  it("keyParamValues returns each decoded `key` value", () => {
    expect(keyParamValues("/google/x?key=a%2Eb&alt=sse&%6bey=c+d")).toEqual(["a.b", "c d"]);
    expect(keyParamValues("/google/x")).toEqual([]);
  });
});

describe("upstreamUrl", () => {
  it("joins a base with a path prefix and a base without one", () => {
    expect(upstreamUrl("https://api.openai.com/v1", "/chat/completions", "?a=1").href).toBe(
      "https://api.openai.com/v1/chat/completions?a=1",
    );
    expect(upstreamUrl("https://api.anthropic.com", "/v1/messages", "").href).toBe(
      "https://api.anthropic.com/v1/messages",
    );
    expect(upstreamUrl("http://127.0.0.1:9/v1/", "/models", "").href).toBe("http://127.0.0.1:9/v1/models");
  });

  it.each([
    ["../x"],
    ["/../x"],
    ["/a/../../x"],
    ["/%2e%2e/x"],
    ["/a\\..\\x"],
    ["/x?y"],
    ["/x#y"],
    ["/a%2Fb"],
    ["/\u0000"],
  ])("refuses the unnormalised path %j", (path) => {
    expect(() => upstreamUrl("https://api.openai.com/v1", path, "")).toThrow(GatewayError);
  });

  it("never leaves the base's origin or path prefix, for any target splitEgressTarget accepts", () => {
    const bases = ["https://api.openai.com/v1", "https://api.anthropic.com", "http://127.0.0.1:8/p/q"];
    const pieces = [
      "..",
      ".",
      "%2e",
      "%2E%2e",
      "%2f",
      "%5c",
      "\\",
      "/",
      "//",
      "@",
      ":",
      "evil.example",
      "http:",
      "%40",
      "?",
      "#",
      "%00",
      "é",
      "%",
      "a",
      "~",
      ";",
    ];
    let accepted = 0;
    for (const a of pieces) {
      for (const b of pieces) {
        for (const c of pieces) {
          let target: ReturnType<typeof splitEgressTarget>;
          try {
            target = splitEgressTarget(`/openai/${a}${b}/${c}`);
          } catch (err) {
            expect(err).toBeInstanceOf(GatewayError);
            continue;
          }
          for (const base of bases) {
            const url = upstreamUrl(base, target.path, target.query);
            const b0 = new URL(base);
            expect(url.origin).toBe(b0.origin);
            expect(`${url.pathname}/`.startsWith(b0.pathname.replace(/\/?$/, "/"))).toBe(true);
            accepted++;
          }
        }
      }
    }
    expect(accepted).toBeGreaterThan(1000);
  });
});
