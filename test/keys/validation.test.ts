/**
 * Key API (SPEC §5): every bad input gets a clear problem+json error, never
 * echoes the key, and changes nothing — a stored key stays as it was.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv, type TestUser } from "../e2e-helpers/egress-env.ts";
import { fakeProviderKey } from "../e2e-helpers/fake-keys.ts";
import { keyApi } from "../e2e-helpers/key-api.ts";

let env: EgressEnv;
beforeAll(async () => {
  env = await startEgressEnv();
});
afterEach(() => env.assertLogsClean());
afterAll(async () => {
  await env.stop();
});

/** A user with a stored openai key, and the GET answer for it before the bad call. */
async function userWithKey(): Promise<{ user: TestUser; before: unknown }> {
  const user = await env.newUser();
  await env.storeKey(user, "openai");
  return { user, before: await (await keyApi(env.ingress, user.jwt).get("openai")).json() };
}

async function expectUnchanged(user: TestUser, before: unknown): Promise<void> {
  expect(await (await keyApi(env.ingress, user.jwt).get("openai")).json()).toEqual(before);
}

async function expectProblem(res: Response, status: number, slug: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(res.headers.get("x-keygate-error")).toBe(slug);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ type: `urn:keygate:problem:${slug}`, status });
  expect(typeof body["title"]).toBe("string");
  expect(typeof body["detail"]).toBe("string");
  return body;
}

describe("422 for a key of the wrong shape, never echoed", () => {
  test.each([
    [
      "an anthropic key for openai",
      "openai",
      () => fakeProviderKey("anthropic").replace("sk-ant-", "sk_ant_"),
    ],
    ["a google key for openai", "openai", () => fakeProviderKey("google")],
    ["an openai key for anthropic", "anthropic", () => fakeProviderKey("openai")],
    ["an openai key for google", "google", () => fakeProviderKey("openai")],
    ["a too-short openai key", "openai", () => "sk-short0123"],
    ["a key with a space inside", "openai", () => `${fakeProviderKey("openai")} x`],
    ["a key of 257 characters", "openai", () => `sk-${"a".repeat(254)}`],
    ["an empty key", "openai", () => ""],
  ])("%s", async (_, provider, make) => {
    const { user, before } = await userWithKey();
    const bad = make();
    if (bad.length >= 8) env.secrets.push(bad);
    const res = await keyApi(env.ingress, user.jwt).put(provider, { api_key: bad });
    const text = await res.clone().text();
    await expectProblem(res, 422, "invalid-key");
    if (bad !== "") expect(text).not.toContain(bad);
    await expectUnchanged(user, before);
  });

  test("a 256-character key is accepted (the limit is inclusive)", async () => {
    const user = await env.newUser();
    const key = `sk-${"b".repeat(253)}`;
    env.secrets.push(key);
    expect((await keyApi(env.ingress, user.jwt).put("openai", { api_key: key })).status).toBe(200);
  });
});

test.each([
  ["not JSON", "api_key=sk-whatever"],
  ["a JSON array", "[]"],
  ["no api_key", "{}"],
  ["api_key not a string", '{"api_key": 12345}'],
  ["null", "null"],
])("400 bad-request for a body that is %s; nothing changes", async (_, body) => {
  const { user, before } = await userWithKey();
  await expectProblem(await keyApi(env.ingress, user.jwt).put("openai", body), 400, "bad-request");
  await expectUnchanged(user, before);
});

test("413 for a body over 8 KiB (even with a valid key inside); 8 KiB exactly passes", async () => {
  const { user, before } = await userWithKey();
  const key = fakeProviderKey("openai");
  env.secrets.push(key);
  const envelope = JSON.stringify({ api_key: key, pad: "" });
  const pad = (total: number) => JSON.stringify({ api_key: key, pad: "x".repeat(total - envelope.length) });
  expect(pad(8193).length).toBe(8193);
  await expectProblem(await keyApi(env.ingress, user.jwt).put("openai", pad(8193)), 413, "payload-too-large");
  await expectUnchanged(user, before);
  expect((await keyApi(env.ingress, user.jwt).put("openai", pad(8192))).status).toBe(200);
});

test.each([
  ["PUT", (api: ReturnType<typeof keyApi>) => api.put("nosuch", { api_key: "not-a-key" })],
  ["GET", (api: ReturnType<typeof keyApi>) => api.get("nosuch")],
  ["DELETE", (api: ReturnType<typeof keyApi>) => api.remove("nosuch")],
  ["POST verify", (api: ReturnType<typeof keyApi>) => api.verify("nosuch")],
])("%s on an unknown provider → 404 unknown-provider", async (_, send) => {
  const user = await env.newUser();
  const body = await expectProblem(await send(keyApi(env.ingress, user.jwt)), 404, "unknown-provider");
  expect(body["detail"]).toContain('"nosuch"');
});

test.each([
  ["no token", {}],
  ["a malformed token", { authorization: "Bearer not-a-jwt" }],
  ["a token in x-api-key only (the key API takes Bearer)", { "x-api-key": "set-below" }],
])("401 with %s, and nothing stored", async (_, headers) => {
  const user = await env.newUser();
  const h: Record<string, string> = { ...headers, "content-type": "application/json" };
  if (h["x-api-key"]) h["x-api-key"] = user.jwt;
  const key = fakeProviderKey("openai");
  env.secrets.push(key);
  const res = await fetch(`${env.ingress}/_keygate/keys/openai`, {
    method: "PUT",
    headers: h,
    body: JSON.stringify({ api_key: key }),
  });
  await expectProblem(res, 401, "unauthorized");
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
  expect(await (await keyApi(env.ingress, user.jwt).list()).json()).toEqual({ keys: [] });
});

test("any other /_keygate path is 404 and never proxied", async () => {
  const user = await env.newUser();
  const res = await fetch(`${env.ingress}/_keygate/keysx`, {
    headers: { authorization: `Bearer ${user.jwt}` },
  });
  expect(res.status).toBe(404);
  await res.arrayBuffer();
});
