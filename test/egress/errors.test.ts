/**
 * Issue 3: keygate's own egress errors come in each provider's error shape
 * with `x-keygate-error` (raw HTTP here; the SDKs' view is in
 * `sdk-errors.test.ts`), and nothing reaches the provider when keygate refuses.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { chatRequest, errorOf, postJson } from "../e2e-helpers/http.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";

const PROVIDERS = ["openai", "anthropic", "google"] as const;
type Provider = (typeof PROVIDERS)[number];

let env: EgressEnv;
beforeAll(async () => {
  env = await startEgressEnv({
    extra: `limits:
  - { name: one-per-user, scope: llm, per: user, rate: 1/1m }`,
  });
});
afterEach(() => env.assertLogsClean());
afterAll(async () => {
  await env.stop();
});

/** The provider-shaped body for an error with OpenAI type/code, Anthropic type, Google status. */
function shaped(
  provider: Provider,
  status: number,
  words: { openai: [string, string]; anthropic: string; google: string },
) {
  if (provider === "openai") {
    return {
      error: { message: expect.any(String), type: words.openai[0], param: null, code: words.openai[1] },
    };
  }
  if (provider === "anthropic")
    return { type: "error", error: { type: words.anthropic, message: expect.any(String) } };
  return { error: { code: status, message: expect.any(String), status: words.google } };
}

function messageOf(body: Record<string, unknown>): string {
  const error = body["error"] as { message: string };
  return error.message;
}

async function call(provider: Provider, headers: Record<string, string>): Promise<Response> {
  const { path, body } = chatRequest(provider, false);
  return postJson(`${env.egress}${path}`, body, headers);
}

describe.each(PROVIDERS)("%s, raw HTTP", (provider) => {
  test("no key stored → 400 provider-key-missing naming PUT /_keygate/keys/{provider}; nothing sent upstream", async () => {
    const user = await env.newUser();
    const before = env.mocks.requests.length;
    const e = await errorOf(await call(provider, { authorization: `Bearer ${user.jwt}` }));

    expect([e.status, e.slug]).toEqual([400, "provider-key-missing"]);
    expect(e.body).toEqual(
      shaped(provider, 400, {
        openai: ["invalid_request_error", "provider_key_missing"],
        anthropic: "invalid_request_error",
        google: "INVALID_ARGUMENT",
      }),
    );
    expect(messageOf(e.body)).toContain(`PUT /_keygate/keys/${provider}`);
    expect(env.mocks.requests.length).toBe(before);
  });

  test.each([
    ["missing", undefined],
    ["signed with another secret", "other"],
    ["expired", "expired"],
  ])("JWT %s → 401 unauthorized with WWW-Authenticate; nothing sent upstream", async (_, kind) => {
    const user = await env.newUser();
    await env.storeKey(user, provider);
    const jwt =
      kind === "other"
        ? await mintToken({ sub: user.id, secret: randomSecret() })
        : kind === "expired"
          ? await mintToken({ sub: user.id, secret: env.secret, exp: Math.floor(Date.now() / 1000) - 3600 })
          : undefined;
    if (jwt) env.secrets.push(jwt);
    const before = env.mocks.requests.length;
    const res = await call(provider, jwt ? { authorization: `Bearer ${jwt}` } : {});
    const e = await errorOf(res);

    expect([e.status, e.slug]).toEqual([401, "unauthorized"]);
    expect(res.headers.get("www-authenticate")).toMatch(
      /^Bearer error="invalid_token", error_description="[^"]+"$/,
    );
    expect(e.body).toEqual(
      shaped(provider, 401, {
        openai: ["invalid_request_error", "invalid_api_key"],
        anthropic: "authentication_error",
        google: "UNAUTHENTICATED",
      }),
    );
    expect(env.mocks.requests.length).toBe(before);
  });

  test("quota exceeded → 429 rate-limited with Retry-After and RateLimit headers; the 2nd call never reaches the mock", async () => {
    const user = await env.newUser();
    await env.storeKey(user, provider);
    const first = await call(provider, { authorization: `Bearer ${user.jwt}` });
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-policy")).toBe('"one-per-user";q=1;w=60');
    expect(first.headers.get("ratelimit")).toMatch(/^"one-per-user";r=0;t=(60|59)$/);
    await first.arrayBuffer();
    const before = env.mocks.requests.length;
    const res = await call(provider, { authorization: `Bearer ${user.jwt}` });
    const e = await errorOf(res);

    expect([e.status, e.slug]).toEqual([429, "rate-limited"]);
    expect(e.body).toEqual(
      shaped(provider, 429, {
        openai: ["requests", "rate_limit_exceeded"],
        anthropic: "rate_limit_error",
        google: "RESOURCE_EXHAUSTED",
      }),
    );
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.headers.get("ratelimit-policy")).toBe('"one-per-user";q=1;w=60');
    expect(res.headers.get("ratelimit")).toMatch(/^"one-per-user";r=0;t=\d+$/);
    expect(env.mocks.requests.length).toBe(before);
  });
});

test("unknown provider → 404 in the openai shape with x-keygate-error", async () => {
  const user = await env.newUser();
  const e = await errorOf(
    await fetch(`${env.egress}/nosuch/v1/models`, { headers: { authorization: `Bearer ${user.jwt}` } }),
  );
  expect([e.status, e.slug]).toEqual([404, "unknown-provider"]);
  expect(e.body).toEqual({
    error: {
      message: expect.stringContaining('"nosuch"'),
      type: "invalid_request_error",
      param: null,
      code: "not_found",
    },
  });
});
