/**
 * Issue 3: answers stream through as they arrive, and a client that goes away
 * mid-stream ends the upstream call. The mock sends headers and one chunk,
 * then stalls until its client leaves: a buffering gateway never delivers that
 * chunk, and one that ignores the disconnect never closes the mock's answer.
 * Run without limits (bytes pass straight through) and with a token limit
 * (the usage observer reads, and may hold, each event).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { chatRequest, firstChunk, postJson, within } from "../e2e-helpers/http.ts";

const TOKEN_LIMIT = "limits:\n  - { name: llm-tokens, scope: llm, per: user, tokens: 1000000/1m }";

describe.each([
  ["no limits", ""],
  ["a token limit", TOKEN_LIMIT],
])("with %s", (_, extra) => {
  let env: EgressEnv;
  beforeAll(async () => {
    env = await startEgressEnv({ extra });
  });
  afterEach(() => {
    env.mocks.setBehaviour({});
    env.assertLogsClean();
  });
  afterAll(async () => {
    await env.stop();
  });

  const FIRST_EVENT: Readonly<Record<"openai" | "anthropic" | "google", RegExp>> = {
    openai:
      /^data: \{"id":"chatcmpl-mock","object":"chat\.completion\.chunk".*"delta":\{"role":"assistant","content":""\}/,
    anthropic: /^event: message_start\ndata: \{"type":"message_start"/,
    google: /^data: \{"candidates":\[\{"content":\{"parts":\[\{"text":"Hello"\}\]/,
  };

  describe.each(["openai", "anthropic", "google"] as const)("%s stream", (provider) => {
    test("the first event reaches the client while the mock still holds the rest", async () => {
      const user = await env.newUser();
      await env.storeKey(user, provider);
      env.mocks.setBehaviour({ hang: "body" }, provider);
      const { path, body } = chatRequest(provider, true);
      const seen = env.mocks.nextRequest();
      const client = new AbortController();
      const res = await within(
        postJson(`${env.egress}${path}`, body, { authorization: `Bearer ${user.jwt}` }, client.signal),
        5_000,
        "answer headers",
      );
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const { text } = await within(firstChunk(res), 5_000, "first streamed chunk (buffered?)");
      expect(text).toMatch(FIRST_EVENT[provider]);
      expect((await seen).provider).toBe(provider);
      client.abort();
    });

    test("a client disconnect mid-stream closes the upstream answer", async () => {
      const user = await env.newUser();
      await env.storeKey(user, provider);
      env.mocks.setBehaviour({ hang: "body" }, provider);
      const { path, body } = chatRequest(provider, true);
      const seen = env.mocks.nextRequest();
      const client = new AbortController();
      const res = await postJson(
        `${env.egress}${path}`,
        body,
        { authorization: `Bearer ${user.jwt}` },
        client.signal,
      );
      await within(firstChunk(res), 5_000, "first streamed chunk");
      const request = await seen;
      client.abort();
      // The mock's answer only ends when its client (keygate) goes away.
      await within(request.finished, 5_000, "upstream close after the client left");
    });
  });
});
