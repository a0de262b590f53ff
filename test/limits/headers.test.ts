import { afterAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../gateway/errors.ts";
import { rateLimitError } from "../../gateway/limits/quota-service.ts";
import { harness, limit, unique } from "./fixtures.ts";

const who = () => ({ user: unique("u"), tier: undefined, ip: "192.0.2.1" });

describe("RateLimit headers and the 429", () => {
  const h = harness(undefined);
  afterAll(() => h.quotas.close());

  it("a passing request reports the one limit with the lowest remaining ÷ quota", async () => {
    const loose = limit({ name: "user-requests", rate: "60/1m" });
    const tight = limit({ name: "burst", rate: "3/10s" });
    const subject = who();
    const first = await h.quotas.check([loose], subject);
    expect(first.headers).toEqual({
      "RateLimit-Policy": '"user-requests";q=60;w=60',
      RateLimit: '"user-requests";r=59;t=60',
    });
    const second = await h.quotas.check([loose, tight], subject);
    expect(second.headers).toEqual({ "RateLimit-Policy": '"burst";q=3;w=10', RateLimit: '"burst";r=2;t=10' });
  });

  it("a token counter is reported as <name>:tokens; concurrency and shadow limits never are", async () => {
    const llm = limit({ name: "openai-per-user", rate: "20/1m", tokens: "1000/1h", concurrent: 1 });
    const shadow = limit({ name: "watch", rate: "1/1m", shadow: true });
    const d = await h.quotas.check([llm, shadow], who(), 500);
    expect(d.headers).toEqual({
      "RateLimit-Policy": '"openai-per-user:tokens";q=1000;w=3600',
      RateLimit: '"openai-per-user:tokens";r=500;t=3600',
    });
  });

  it("no matching limit → no headers", async () => {
    expect(await h.quotas.check([], who())).toMatchObject({
      allowed: true,
      headers: {},
      shadowViolations: [],
    });
  });

  it("a denial lists every violated limit, Retry-After is the longest wait rounded up", async () => {
    const a = limit({ name: "a", rate: "1/1m" });
    const b = limit({ name: "b", rate: "1/1500ms" });
    const ok = limit({ name: "ok", rate: "100/1m" });
    const subject = who();
    await h.quotas.check([a, b, ok], subject);
    const d = await h.quotas.check([a, b, ok], subject);
    expect(d).toEqual({
      allowed: false,
      exhausted: "requests",
      violated: ["a", "b"],
      retryAfterS: 60,
      shouldRetry: true,
      headers: {
        "RateLimit-Policy": '"a";q=1;w=60, "b";q=1;w=2',
        RateLimit: '"a";r=0;t=60, "b";r=0;t=2',
        "Retry-After": "60",
      },
    });
    const e = rateLimitError(d.allowed ? (undefined as never) : d);
    expect(e).toBeInstanceOf(GatewayError);
    expect(e).toMatchObject({ status: 429, slug: "rate-limited", title: "Too Many Requests" });
    expect(e.rateLimit).toEqual({
      violated: ["a", "b"],
      retryAfterS: 60,
      shouldRetry: true,
      exhausted: "requests",
    });
    expect(e.headers).toEqual(d.headers);
    expect(e.detail).toBe("Quota exceeded (a, b). Retry after 60 s.");
  });

  it("Retry-After over 60 s → shouldRetry false and x-should-retry: false", async () => {
    const hourly = limit({ name: "hourly", rate: "1/1h" });
    const subject = who();
    await h.quotas.check([hourly], subject);
    const d = await h.quotas.check([hourly], subject);
    if (d.allowed) throw new Error("expected a denial");
    expect(d.retryAfterS).toBe(3600);
    expect(d.shouldRetry).toBe(false);
    expect(rateLimitError(d).headers).toEqual({
      "RateLimit-Policy": '"hourly";q=1;w=3600',
      RateLimit: '"hourly";r=0;t=3600',
      "Retry-After": "3600",
      "x-should-retry": "false",
    });
  });

  it("a request that can never fit → x-should-retry: false even with a short window", async () => {
    const tok = limit({ name: "tok", tokens: "100/10s" });
    const d = await h.quotas.check([tok], who(), 101);
    if (d.allowed) throw new Error("expected a denial");
    expect(d).toMatchObject({ retryAfterS: 10, shouldRetry: false, violated: ["tok"] });
    expect(rateLimitError(d).headers["x-should-retry"]).toBe("false");
    expect(d.headers["RateLimit"]).toBe('"tok:tokens";r=100;t=10');
  });

  it("a concurrency-only denial still reports the tightest window and Retry-After: 1", async () => {
    const c = limit({ name: "streams", rate: "10/1m", concurrent: 1 });
    const subject = who();
    await h.quotas.check([c], subject);
    const d = await h.quotas.check([c], subject);
    expect(d).toEqual({
      allowed: false,
      exhausted: "requests",
      violated: ["streams"],
      retryAfterS: 1,
      shouldRetry: true,
      headers: {
        "RateLimit-Policy": '"streams";q=10;w=60',
        RateLimit: '"streams";r=9;t=60',
        "Retry-After": "1",
      },
    });
  });
});
