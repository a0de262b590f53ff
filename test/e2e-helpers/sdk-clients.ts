/**
 * The official SDKs pointed at keygate's egress with the user's JWT as API key
 * (SPEC §4), no retries so errors surface at once. Plus a check that the JWT
 * never reached a provider.
 */
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { expect } from "vitest";
import type { RecordedRequest } from "../mocks/providers.ts";

/** @example const client = openaiClient(env.egress, user.jwt); */
export function openaiClient(egress: string, jwt: string): OpenAI {
  return new OpenAI({ apiKey: jwt, baseURL: `${egress}/openai`, maxRetries: 0 });
}

/** @example const client = anthropicClient(env.egress, user.jwt); */
export function anthropicClient(egress: string, jwt: string): Anthropic {
  return new Anthropic({ apiKey: jwt, baseURL: `${egress}/anthropic`, maxRetries: 0 });
}

/** @example const client = googleClient(env.egress, user.jwt); */
export function googleClient(egress: string, jwt: string): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: jwt,
    httpOptions: { baseUrl: `${egress}/google`, retryOptions: { attempts: 1 } },
  });
}

/** The JWT appears nowhere in what a mock received: no header, not the URL, not the body. */
export function expectNoJwt(request: RecordedRequest, jwt: string): void {
  const seen = [request.url, request.body, ...Object.values(request.headers).flat().map(String)];
  for (const text of seen) expect(text.includes(jwt), "the JWT reached a provider").toBe(false);
}
