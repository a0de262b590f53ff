/**
 * Issue 3: keygate's own egress errors (401 bad JWT, 400 no key stored, 429
 * quota) make the official SDKs raise their native error classes.
 */
import Anthropic from "@anthropic-ai/sdk";
import { ApiError } from "@google/genai";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { anthropicClient, googleClient, openaiClient } from "../e2e-helpers/sdk-clients.ts";

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

describe("the SDKs raise their native error classes", () => {
  // One user per outcome: the request limit (1/1m) counts a keyless call too.
  test("openai: AuthenticationError, BadRequestError, RateLimitError", async () => {
    const user = await env.newUser();
    const request = { model: "gpt-mock", messages: [{ role: "user" as const, content: "Hi" }] };
    await expect(
      openaiClient(env.egress, "not-a-jwt").chat.completions.create(request),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const keyless = await env.newUser();
    const missing = await openaiClient(env.egress, keyless.jwt)
      .chat.completions.create(request)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect((missing as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("provider_key_missing");
    await env.storeKey(user, "openai");
    await openaiClient(env.egress, user.jwt).chat.completions.create(request);
    const limited = await openaiClient(env.egress, user.jwt)
      .chat.completions.create(request)
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("rate_limit_exceeded");
  });

  test("anthropic: AuthenticationError, BadRequestError, RateLimitError", async () => {
    const user = await env.newUser();
    const request = {
      model: "claude-mock",
      max_tokens: 16,
      messages: [{ role: "user" as const, content: "Hi" }],
    };
    await expect(anthropicClient(env.egress, "not-a-jwt").messages.create(request)).rejects.toBeInstanceOf(
      Anthropic.AuthenticationError,
    );
    const keyless = await env.newUser();
    await expect(anthropicClient(env.egress, keyless.jwt).messages.create(request)).rejects.toBeInstanceOf(
      Anthropic.BadRequestError,
    );
    await env.storeKey(user, "anthropic");
    await anthropicClient(env.egress, user.jwt).messages.create(request);
    await expect(anthropicClient(env.egress, user.jwt).messages.create(request)).rejects.toBeInstanceOf(
      Anthropic.RateLimitError,
    );
  });

  test("google: ApiError with status 401, 400, 429", async () => {
    const user = await env.newUser();
    const request = { model: "gemini-mock", contents: "Hi" };
    const statusOf = (p: Promise<unknown>) =>
      p.then(
        () => "resolved",
        (e: unknown) => (e instanceof ApiError ? e.status : `not an ApiError: ${String(e)}`),
      );
    expect(await statusOf(googleClient(env.egress, "not-a-jwt").models.generateContent(request))).toBe(401);
    const keyless = await env.newUser();
    expect(await statusOf(googleClient(env.egress, keyless.jwt).models.generateContent(request))).toBe(400);
    await env.storeKey(user, "google");
    await googleClient(env.egress, user.jwt).models.generateContent(request);
    expect(await statusOf(googleClient(env.egress, user.jwt).models.generateContent(request))).toBe(429);
  });
});
