/** Small HTTP helpers for egress and key API tests (raw fetch, no SDK). */
import { expect } from "vitest";

/** Fails the test when `promise` has not settled after `ms` (a hang is a bug, not a slow run). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** POSTs JSON to `url` with the JWT as Bearer token (or other headers). */
export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** A minimal chat request per provider, at the egress path its SDK would use. */
export function chatRequest(
  provider: "openai" | "anthropic" | "google",
  stream: boolean,
): { path: string; body: unknown } {
  if (provider === "openai") {
    return {
      path: "/openai/chat/completions",
      body: { model: "gpt-mock", stream, messages: [{ role: "user", content: "Hi" }] },
    };
  }
  if (provider === "anthropic") {
    return {
      path: "/anthropic/v1/messages",
      body: { model: "claude-mock", max_tokens: 64, stream, messages: [{ role: "user", content: "Hi" }] },
    };
  }
  return {
    path: `/google/v1beta/models/gemini-mock:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
    body: { contents: [{ role: "user", parts: [{ text: "Hi" }] }] },
  };
}

/** Reads a response body's first chunk (as text). */
export async function firstChunk(
  res: Response,
): Promise<{ text: string; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const reader = res.body!.getReader();
  const { value, done } = await reader.read();
  expect(done).toBe(false);
  return { text: new TextDecoder().decode(value), reader };
}

export interface ProblemLike {
  readonly status: number;
  readonly slug: string | null;
  readonly body: Record<string, unknown>;
}

/** Status, `x-keygate-error` and parsed JSON body of an error answer. */
export async function errorOf(res: Response): Promise<ProblemLike> {
  return {
    status: res.status,
    slug: res.headers.get("x-keygate-error"),
    body: (await res.json()) as Record<string, unknown>,
  };
}
