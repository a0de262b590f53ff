/**
 * keygate's egress errors, rendered by providerErrorResponse and served by a
 * tiny node:http server, must make each official SDK raise its native typed error.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import { ApiError, GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ErrorSlug, GatewayError } from "../../gateway/errors.ts";
import { providerErrorResponse } from "../../gateway/providers/errors.ts";
import type { ProviderApi } from "../../policies/types.ts";

let server: Server;
let base: string;
let next: GatewayError;
let api: ProviderApi = "openai";

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const r = providerErrorResponse(next, api);
    res.writeHead(r.status, r.headers).end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const rateLimited = (violated: string[], exhausted: "requests" | "tokens" = "requests") =>
  new GatewayError(429, "rate-limited", "Too many requests", "Quota user-llm exhausted; retry in 12 s.", {
    rateLimit: { violated, retryAfterS: 12, shouldRetry: true, exhausted },
    headers: { "retry-after": "12", ratelimit: '"user-llm";r=0;t=12' },
  });
const err = (status: number, slug: ErrorSlug, detail = `keygate says ${slug}`) =>
  new GatewayError(status, slug, slug, detail);

async function openaiError(e: GatewayError) {
  next = e;
  api = "openai";
  const client = new OpenAI({ apiKey: "jwt-placeholder", baseURL: `${base}/openai`, maxRetries: 0 });
  return client.chat.completions
    .create({ model: "m", messages: [{ role: "user", content: "x" }] })
    .catch((x: unknown) => x);
}
async function anthropicError(e: GatewayError) {
  next = e;
  api = "anthropic";
  const client = new Anthropic({ apiKey: "jwt-placeholder", baseURL: `${base}/anthropic`, maxRetries: 0 });
  return client.messages
    .create({ model: "m", max_tokens: 1, messages: [{ role: "user", content: "x" }] })
    .catch((x: unknown) => x);
}
async function googleError(e: GatewayError) {
  next = e;
  api = "google";
  const ai = new GoogleGenAI({ apiKey: "jwt-placeholder", httpOptions: { baseUrl: `${base}/google` } });
  return ai.models.generateContent({ model: "m", contents: "x" }).catch((x: unknown) => x);
}

describe("OpenAI SDK", () => {
  it.each([
    [
      err(400, "provider-key-missing"),
      OpenAI.BadRequestError,
      "invalid_request_error",
      "provider_key_missing",
    ],
    [err(401, "unauthorized"), OpenAI.AuthenticationError, "invalid_request_error", "invalid_api_key"],
    [rateLimited(["user-llm"]), OpenAI.RateLimitError, "requests", "rate_limit_exceeded"],
    [rateLimited(["user-rpm", "user-llm"], "tokens"), OpenAI.RateLimitError, "tokens", "rate_limit_exceeded"],
    [err(503, "store-unavailable"), OpenAI.InternalServerError, "api_error", "service_unavailable"],
    [err(404, "unknown-provider"), OpenAI.NotFoundError, "invalid_request_error", "not_found"],
    [err(504, "upstream-timeout"), OpenAI.InternalServerError, "api_error", "upstream_timeout"],
  ])("%s → native error with type and code", async (e, cls, type, code) => {
    const x = (await openaiError(e)) as InstanceType<typeof OpenAI.APIError>;
    expect(x).toBeInstanceOf(cls);
    expect([x.status, x.type, x.code, x.param]).toEqual([e.status, type, code, null]);
    expect(x.message).toBe(`${e.status} ${e.detail}`);
    expect(x.headers?.get("x-keygate-error")).toBe(e.slug);
  });

  it("carries the 429's own headers and names the guard in guard-rejected messages", async () => {
    const x = (await openaiError(rateLimited(["a"]))) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(x.headers?.get("retry-after")).toBe("12");
    expect(x.headers?.get("ratelimit")).toBe('"user-llm";r=0;t=12');
    const g = new GatewayError(400, "guard-rejected", "Rejected", "max_tokens 9000 is over 4096.", {
      guard: "max-tokens",
    });
    const y = (await openaiError(g)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(y).toBeInstanceOf(OpenAI.BadRequestError);
    expect([y.code, y.message]).toEqual([
      "guard_rejected",
      '400 Rejected by guard "max-tokens": max_tokens 9000 is over 4096.',
    ]);
  });
});

describe("Anthropic SDK", () => {
  it.each([
    [err(400, "provider-key-missing"), Anthropic.BadRequestError, "invalid_request_error"],
    [err(401, "unauthorized"), Anthropic.AuthenticationError, "authentication_error"],
    [rateLimited(["user-llm"]), Anthropic.RateLimitError, "rate_limit_error"],
    [err(503, "store-unavailable"), Anthropic.ServiceUnavailableError, "api_error"],
    [err(404, "not-found"), Anthropic.NotFoundError, "not_found_error"],
    [err(413, "payload-too-large"), Anthropic.ContentTooLargeError, "request_too_large"],
    [err(504, "upstream-timeout"), Anthropic.GatewayTimeoutError, "timeout_error"],
    [err(502, "upstream-unreachable"), Anthropic.InternalServerError, "api_error"],
  ])("%s → native error with type", async (e, cls, type) => {
    const x = (await anthropicError(e)) as InstanceType<typeof Anthropic.APIError>;
    expect(x).toBeInstanceOf(cls);
    expect([x.status, x.type, x.apiMessage]).toEqual([e.status, type, e.detail]);
    expect(x.headers?.get("x-keygate-error")).toBe(e.slug);
  });
});

describe("Google GenAI SDK", () => {
  it.each([
    [err(400, "provider-key-missing"), "INVALID_ARGUMENT"],
    [err(401, "unauthorized"), "UNAUTHENTICATED"],
    [rateLimited(["user-llm"]), "RESOURCE_EXHAUSTED"],
    [err(503, "store-unavailable"), "UNAVAILABLE"],
    [err(404, "unknown-provider"), "NOT_FOUND"],
    [err(504, "upstream-timeout"), "DEADLINE_EXCEEDED"],
  ])("%s → ApiError with status and the google error body", async (e, status) => {
    const x = (await googleError(e)) as ApiError;
    expect(x).toBeInstanceOf(ApiError);
    expect(x.status).toBe(e.status);
    expect(JSON.parse(x.message)).toEqual({ error: { code: e.status, message: e.detail, status } });
  });
});
