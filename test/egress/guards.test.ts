/**
 * Issue 4: provider guards. A request that breaks one gets 400 in the
 * provider's error shape with `x-keygate-error: guard-rejected`, a message
 * naming the guard, and nothing reaches the provider; `max_tokens: clamp`
 * lowers the cap instead; a matched deny pattern is never echoed.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv, type TestUser } from "../e2e-helpers/egress-env.ts";
import { postJson } from "../e2e-helpers/http.ts";

const GUARDS = (models: string, action: "reject" | "clamp", deny: string) =>
  `guards: { max_body: 4KiB, max_messages: 2, max_tokens: { limit: 100, action: ${action} }, models: ["${models}"], deny: [${deny}], deny_patterns: [{ name: project-code, regex: "forbidden-[0-9]+" }] }`;

let env: EgressEnv;
let user: TestUser;
beforeAll(async () => {
  env = await startEgressEnv({
    providerExtra: {
      openai: GUARDS("gpt-mock", "reject", "tools, functions, logit_bias, logprobs, n"),
      anthropic: GUARDS("claude-mock", "clamp", "tools"),
      google: GUARDS("gemini-mock", "reject", "functions, n"),
    },
  });
});
beforeEach(async () => {
  user = await env.newUser();
  for (const p of ["openai", "anthropic", "google"] as const) await env.storeKey(user, p);
});
afterEach(() => env.assertLogsClean());
afterAll(async () => {
  await env.stop();
});

const hi = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: "Hi" }));
const openai = (extra: Record<string, unknown>) => ({ model: "gpt-mock", messages: hi(1), ...extra });
const anthropic = (extra: Record<string, unknown>) => ({
  model: "claude-mock",
  max_tokens: 50,
  messages: hi(1),
  ...extra,
});
const contents = (n: number, text = "Hi") =>
  Array.from({ length: n }, (_, i) => ({ role: i % 2 ? "model" : "user", parts: [{ text }] }));
const google = (extra: Record<string, unknown>) => ({ contents: contents(1), ...extra });
const GOOGLE_PATH = "/google/v1beta/models/gemini-mock:generateContent";

/** The rejection each dialect sends, with the guard's name in the message. */
function rejection(provider: "openai" | "anthropic" | "google", guard: string) {
  const message = expect.stringMatching(
    new RegExp(`^request rejected by guard ${guard.replace(/[-:]/g, "\\$&")}: `),
  );
  if (provider === "openai")
    return { error: { message, type: "invalid_request_error", param: null, code: "guard_rejected" } };
  if (provider === "anthropic") return { type: "error", error: { type: "invalid_request_error", message } };
  return { error: { code: 400, message, status: "INVALID_ARGUMENT" } };
}

async function send(path: string, body: unknown) {
  const before = env.mocks.requests.length;
  const res = await postJson(`${env.egress}${path}`, body, { authorization: `Bearer ${user.jwt}` });
  const text = await res.text();
  return { res, text, upstream: env.mocks.requests.slice(before) };
}

const FORBIDDEN = "forbidden-4711";

test.each([
  ["openai", "/openai/chat/completions", openai({ messages: hi(3) }), "max-messages"],
  ["openai", "/openai/chat/completions", openai({ max_completion_tokens: 101 }), "max-tokens"],
  ["openai", "/openai/chat/completions", openai({ max_tokens: 101 }), "max-tokens"],
  ["openai", "/openai/chat/completions", openai({ model: "gpt-other" }), "model"],
  [
    "openai",
    "/openai/chat/completions",
    openai({ tools: [{ type: "function", function: { name: "f", parameters: {} } }] }),
    "deny:tools",
  ],
  [
    "openai",
    "/openai/chat/completions",
    openai({ functions: [{ name: "f", parameters: {} }] }),
    "deny:functions",
  ],
  ["openai", "/openai/chat/completions", openai({ logit_bias: { "50256": -100 } }), "deny:logit_bias"],
  ["openai", "/openai/chat/completions", openai({ logprobs: true }), "deny:logprobs"],
  ["openai", "/openai/chat/completions", openai({ n: 2 }), "deny:n"],
  [
    "openai",
    "/openai/chat/completions",
    openai({ messages: [{ role: "user", content: `code ${FORBIDDEN}` }] }),
    "pattern:project-code",
  ],
  ["anthropic", "/anthropic/v1/messages", anthropic({ messages: hi(3) }), "max-messages"],
  ["anthropic", "/anthropic/v1/messages", anthropic({ model: "claude-other" }), "model"],
  [
    "anthropic",
    "/anthropic/v1/messages",
    anthropic({ tools: [{ name: "f", input_schema: { type: "object" } }] }),
    "deny:tools",
  ],
  ["anthropic", "/anthropic/v1/messages", anthropic({ system: `code ${FORBIDDEN}` }), "pattern:project-code"],
  ["google", GOOGLE_PATH, google({ contents: contents(3) }), "max-messages"],
  ["google", GOOGLE_PATH, google({ generationConfig: { maxOutputTokens: 101 } }), "max-tokens"],
  ["google", GOOGLE_PATH, google({ generationConfig: { candidateCount: 2 } }), "deny:n"],
  ["google", GOOGLE_PATH, google({ tools: [{ functionDeclarations: [{ name: "f" }] }] }), "deny:functions"],
  ["google", "/google/v1beta/models/gemini-other:generateContent", google({}), "model"],
  ["google", GOOGLE_PATH, google({ contents: contents(1, `code ${FORBIDDEN}`) }), "pattern:project-code"],
] as const)("%s %s breaking %s → 400 guard-rejected, nothing sent", async (provider, path, body, guard) => {
  const { res, text, upstream } = await send(path, body);
  expect(res.status).toBe(400);
  expect(res.headers.get("x-keygate-error")).toBe("guard-rejected");
  expect(JSON.parse(text)).toEqual(rejection(provider, guard));
  expect(text).not.toContain(FORBIDDEN);
  expect(upstream).toEqual([]);
});

describe("what passes", () => {
  test("openai: a request without a cap gets the guard's limit as max_completion_tokens; the rest is unchanged", async () => {
    const { res, upstream } = await send("/openai/chat/completions", openai({}));
    expect(res.status).toBe(200);
    expect(JSON.parse(upstream[0]!.body)).toEqual({ ...openai({}), max_completion_tokens: 100 });
  });

  test("anthropic (clamp): max_tokens 500 is lowered to 100 and the call goes through", async () => {
    const { res, upstream } = await send("/anthropic/v1/messages", anthropic({ max_tokens: 500 }));
    expect(res.status).toBe(200);
    expect(JSON.parse(upstream[0]!.body)).toEqual(anthropic({ max_tokens: 100 }));
  });

  test("google: a request within every guard is forwarded byte for byte", async () => {
    const body = google({ generationConfig: { maxOutputTokens: 100 } });
    const { res, upstream } = await send(GOOGLE_PATH, body);
    expect(res.status).toBe(200);
    expect(upstream[0]!.body).toBe(JSON.stringify(body));
  });
});

test.each([
  ["openai", "/openai/chat/completions"],
  ["anthropic", "/anthropic/v1/messages"],
  ["google", GOOGLE_PATH],
] as const)("%s: a body over max_body (4 KiB) → 413, nothing sent", async (_, path) => {
  const { res, upstream } = await send(path, { model: "x", padding: "x".repeat(5000) });
  expect(res.status).toBe(413);
  expect(res.headers.get("x-keygate-error")).toBe("payload-too-large");
  expect(upstream).toEqual([]);
});

test("a body that is not JSON → 400 bad-request when guards apply, nothing sent", async () => {
  const before = env.mocks.requests.length;
  const res = await fetch(`${env.egress}/openai/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.jwt}`, "content-type": "application/json" },
    body: "{not json",
  });
  expect([res.status, res.headers.get("x-keygate-error")]).toEqual([400, "bad-request"]);
  await res.arrayBuffer();
  expect(env.mocks.requests.length).toBe(before);
});
