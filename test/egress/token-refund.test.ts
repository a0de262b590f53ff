/**
 * Issue 4: a reservation is given back when the call does not complete — an
 * upstream error, an unreachable provider, a client that leaves mid-stream or
 * before the answer starts. What the provider already reported as used before
 * the client left (Anthropic's `message_start`, Gemini's running
 * `usageMetadata`) is charged; the rest of the reservation returns.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { eventually } from "../e2e-helpers/eventually.ts";
import { firstChunk, postJson, within } from "../e2e-helpers/http.ts";
import { cappedChat } from "../e2e-helpers/llm-requests.ts";
import { remaining } from "../e2e-helpers/usage.ts";

const QUOTA = 10_000;
const PROVIDERS = ["openai", "anthropic", "google"] as const;
/** Usage in the mocks' first stream event, with their default usage (11 in, 7 out): openai none yet,
 * anthropic `message_start` (11 in + 1 out), google the first chunk's running totals (11 in, 0 out). */
const CHARGED_BEFORE_FIRST_EVENT = { openai: 0, anthropic: 12, google: 11 } as const;

let env: EgressEnv;
beforeAll(async () => {
  env = await startEgressEnv({
    extra: `  offline: { base_url: "http://127.0.0.1:9" }
limits:
  - { name: llm-tokens, scope: llm, per: user, tokens: ${QUOTA}/1m }`,
  });
});
afterEach(() => {
  env.mocks.setBehaviour({});
  env.assertLogsClean();
});
afterAll(async () => {
  await env.stop();
});

const left = (jwt: string) => () => remaining(env.ingress, jwt, "llm-tokens", "tokens");

describe.each(PROVIDERS)("%s", (provider) => {
  test.each([500, 503, 429, 400])(
    "an upstream %i (plain and streamed) gives the whole reservation back",
    async (status) => {
      const user = await env.newUser();
      await env.storeKey(user, provider);
      env.mocks.setBehaviour({ fail: { status } }, provider);
      for (const stream of [false, true]) {
        const { path, body } = cappedChat(provider, stream, 500);
        const res = await postJson(`${env.egress}${path}`, body, { authorization: `Bearer ${user.jwt}` });
        expect(res.status).toBe(status);
        await res.arrayBuffer();
      }
      expect(await eventually(left(user.jwt), QUOTA)).toBe(QUOTA);
    },
  );

  test("a client that leaves mid-stream gets the reservation back, minus usage already reported", async () => {
    const user = await env.newUser();
    await env.storeKey(user, provider);
    env.mocks.setBehaviour({ hang: "body" }, provider);
    const { path, body } = cappedChat(provider, true, 500);
    const seen = env.mocks.nextRequest();
    const client = new AbortController();
    const res = await postJson(
      `${env.egress}${path}`,
      body,
      { authorization: `Bearer ${user.jwt}` },
      client.signal,
    );
    await within(firstChunk(res), 5_000, "first chunk");
    // While the stream is open the reservation (500 + 1) is held.
    expect(await left(user.jwt)()).toBe(QUOTA - 501);
    client.abort();
    await within((await seen).finished, 5_000, "upstream closed");
    const expected = QUOTA - CHARGED_BEFORE_FIRST_EVENT[provider];
    expect(await eventually(left(user.jwt), expected)).toBe(expected);
  });

  test("a client that leaves before the answer starts gets the whole reservation back", async () => {
    const user = await env.newUser();
    await env.storeKey(user, provider);
    env.mocks.setBehaviour({ hang: "headers" }, provider);
    const { path, body } = cappedChat(provider, true, 500);
    const seen = env.mocks.nextRequest();
    const client = new AbortController();
    const pending = postJson(
      `${env.egress}${path}`,
      body,
      { authorization: `Bearer ${user.jwt}` },
      client.signal,
    ).catch((e: unknown) => e);
    const request = await within(seen, 5_000, "upstream request");
    client.abort();
    await pending;
    await within(request.finished, 5_000, "upstream closed");
    expect(await eventually(left(user.jwt), QUOTA)).toBe(QUOTA);
  });
});

test("an unreachable provider (connection refused) gives the reservation back", async () => {
  const user = await env.newUser();
  await env.storeKey(user, "offline", `sk-test-${user.id}`);
  const res = await postJson(
    `${env.egress}/offline/chat/completions`,
    cappedChat("openai", false, 500).body,
    {
      authorization: `Bearer ${user.jwt}`,
    },
  );
  expect([res.status, res.headers.get("x-keygate-error")]).toEqual([503, "upstream-unavailable"]);
  await res.arrayBuffer();
  expect(await eventually(left(user.jwt), QUOTA)).toBe(QUOTA);
});

test("a call refused for a missing key gives the reservation back", async () => {
  const user = await env.newUser();
  const res = await postJson(`${env.egress}/openai/chat/completions`, cappedChat("openai", false, 500).body, {
    authorization: `Bearer ${user.jwt}`,
  });
  expect(res.status).toBe(400);
  await res.arrayBuffer();
  expect(await eventually(left(user.jwt), QUOTA)).toBe(QUOTA);
});
