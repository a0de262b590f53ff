/**
 * Issue 4: token quotas are exact. Parallel streamed calls reserve their
 * estimate up front; those that do not fit are rejected (429, OpenAI
 * `error.type: tokens`); after the streams end each reservation is settled to
 * the usage the provider reported, in each provider's own usage format, so
 * the remaining budget is the quota minus real usage, to the token.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { postJson } from "../e2e-helpers/http.ts";
import { cappedChat } from "../e2e-helpers/llm-requests.ts";
import { remaining } from "../e2e-helpers/usage.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { type MockProviders, startMockProviders } from "../mocks/providers.ts";

const QUOTA = 1000;
/** Reservation per call: 300 output + 1 prompt token ("Hi"); 3 fit in 1000, 4 do not. */
const MAX_TOKENS = 300;
const CALLS = 5;
/** Usage the mocks report: 40 prompt (5 of them cached), 25 output. */
const USAGE = { input: 40, output: 25, cached: 5 };
/**
 * Charged per call with the default `count: [input, output]`: OpenAI and
 * Gemini include cached tokens in the prompt count (40 − 5 + 25); Anthropic
 * reports them on top (40 + 25).
 */
const CHARGED = { openai: 60, anthropic: 65, google: 60 } as const;

/** The union of the three providers' error shapes. */
interface ErrorBody {
  readonly type?: string;
  readonly error: { readonly type?: string; readonly code?: string | number; readonly status?: string };
}
const RATE_SHAPE = {
  openai: (b: ErrorBody) => [b.error.type, b.error.code],
  anthropic: (b: ErrorBody) => [b.type, b.error.type],
  google: (b: ErrorBody) => [b.error.code, b.error.status],
} as const;
const RATE_WORDS = {
  openai: ["tokens", "rate_limit_exceeded"],
  anthropic: ["error", "rate_limit_error"],
  google: [429, "RESOURCE_EXHAUSTED"],
} as const;

let mocks: MockProviders;
let redis: RedisServer;
beforeAll(async () => {
  mocks = await startMockProviders();
  redis = await startRedis();
});
afterAll(async () => {
  await mocks.close();
  await redis.stop();
});

describe.each([
  ["embedded", () => ({})],
  ["redis", () => ({ REDIS_URL: redis.url })],
])("%s store", (_, storeEnv) => {
  let env: EgressEnv;
  beforeAll(async () => {
    env = await startEgressEnv({
      mocks,
      env: storeEnv(),
      extra: `limits:\n  - { name: llm-tokens, scope: llm, per: user, tokens: ${QUOTA}/1m }`,
    });
  });
  afterAll(async () => {
    env.assertLogsClean();
    await env.stop();
  });

  test.each(["openai", "anthropic", "google"] as const)(
    "%s: 5 parallel streams, 3 fit; the remaining budget is quota − real usage",
    async (provider) => {
      const user = await env.newUser();
      await env.storeKey(user, provider);
      // Slow streams: every reservation is taken long before the first settles.
      mocks.setBehaviour({ usage: USAGE, chunkDelayMs: 150 }, provider);
      const { path, body } = cappedChat(provider, true, MAX_TOKENS);
      const responses = await Promise.all(
        Array.from({ length: CALLS }, () =>
          postJson(`${env.egress}${path}`, body, { authorization: `Bearer ${user.jwt}` }),
        ),
      );
      const texts = await Promise.all(responses.map((r) => r.text()));
      const passed = responses.filter((r) => r.status === 200);
      const rejected = responses.map((r, i) => [r, texts[i]!] as const).filter(([r]) => r.status === 429);

      expect(passed.length).toBe(3);
      expect(rejected.length).toBe(2);
      for (const [res, text] of rejected) {
        expect(res.headers.get("x-keygate-error")).toBe("rate-limited");
        expect(RATE_SHAPE[provider](JSON.parse(text) as ErrorBody)).toEqual(RATE_WORDS[provider]);
        expect(res.headers.get("ratelimit-policy")).toBe(`"llm-tokens:tokens";q=${QUOTA};w=60`);
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      }
      expect(await remaining(env.ingress, user.jwt, "llm-tokens", "tokens")).toBe(
        QUOTA - 3 * CHARGED[provider],
      );
      mocks.setBehaviour({}, provider);
    },
  );

  test.each(["openai", "anthropic", "google"] as const)(
    "%s: a plain (non-streamed) call settles to its usage too",
    async (provider) => {
      const user = await env.newUser();
      await env.storeKey(user, provider);
      mocks.setBehaviour({ usage: USAGE }, provider);
      const { path, body } = cappedChat(provider, false, MAX_TOKENS);
      const res = await postJson(`${env.egress}${path}`, body, { authorization: `Bearer ${user.jwt}` });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect(await remaining(env.ingress, user.jwt, "llm-tokens", "tokens")).toBe(QUOTA - CHARGED[provider]);
      mocks.setBehaviour({}, provider);
    },
  );

  test("a reservation larger than the whole quota can never fit: 429 with x-should-retry: false", async () => {
    const user = await env.newUser();
    await env.storeKey(user, "openai");
    const before = mocks.requests.length;
    const { path, body } = cappedChat("openai", false, QUOTA + 1);
    const res = await postJson(`${env.egress}${path}`, body, { authorization: `Bearer ${user.jwt}` });
    expect(res.status).toBe(429);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("tokens");
    expect(mocks.requests.length).toBe(before);
    expect(await remaining(env.ingress, user.jwt, "llm-tokens", "tokens")).toBe(QUOTA);
  });
});
