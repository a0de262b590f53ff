/**
 * Issue 3: egress credential handling (SPEC §4). The JWT is accepted from
 * every SDK slot on every provider; two different values are refused; the
 * client's credentials, cookies and billing selectors never reach the
 * provider (unless `keep_headers` lists the selectors); answers are asked
 * for uncompressed so they can be scrubbed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { errorOf } from "../e2e-helpers/http.ts";
import { expectNoJwt } from "../e2e-helpers/sdk-clients.ts";
import { mintToken } from "../helpers/jwt.ts";
import type { RecordedRequest } from "../mocks/providers.ts";

const PROVIDERS = ["openai", "anthropic", "google"] as const;
type Provider = (typeof PROVIDERS)[number];

/** A cheap GET per provider (the mocks' model lists) at its egress path. */
const MODELS_PATH: Readonly<Record<Provider, string>> = {
  openai: "/openai/models",
  anthropic: "/anthropic/v1/models",
  google: "/google/v1beta/models",
};

/** Where each provider's key must arrive. */
function keySlot(provider: Provider, request: RecordedRequest): string | string[] | undefined {
  if (provider === "openai") return request.headers.authorization;
  return request.headers[provider === "anthropic" ? "x-api-key" : "x-goog-api-key"];
}
const expectedSlot = (provider: Provider, key: string) => (provider === "openai" ? `Bearer ${key}` : key);

let env: EgressEnv;
beforeAll(async () => {
  // `openai-kept` talks to the same mock but keeps the billing selectors.
  env = await startEgressEnv({
    extra: `  openai-kept: { base_url: "\${OPENAI_MOCK}", keep_headers: [openai-organization, openai-project] }`,
  });
});
afterEach(() => env.assertLogsClean());
afterAll(async () => {
  await env.stop();
});

async function get(
  target: string,
  headers: Record<string, string>,
): Promise<{ res: Response; request: RecordedRequest | undefined }> {
  const before = env.mocks.requests.length;
  const res = await fetch(`${env.egress}${target}`, { headers });
  await res.clone().arrayBuffer();
  return { res, request: env.mocks.requests[before] };
}

describe.each(PROVIDERS)("%s", (provider) => {
  test.each([
    ["Authorization: Bearer", (jwt: string) => ({ headers: { authorization: `Bearer ${jwt}` }, query: "" })],
    ["x-api-key", (jwt: string) => ({ headers: { "x-api-key": jwt }, query: "" })],
    ["x-goog-api-key", (jwt: string) => ({ headers: { "x-goog-api-key": jwt }, query: "" })],
    ["?key=", (jwt: string) => ({ headers: {}, query: `?key=${encodeURIComponent(jwt)}` })],
  ])("the JWT is accepted from %s; upstream gets only the stored key", async (_, place) => {
    const user = await env.newUser();
    const key = await env.storeKey(user, provider);
    const { headers, query } = place(user.jwt);
    const { res, request } = await get(`${MODELS_PATH[provider]}${query}`, headers);

    expect(res.status).toBe(200);
    expect(request?.provider).toBe(provider);
    expect(keySlot(provider, request!)).toBe(expectedSlot(provider, key));
    expect(request!.url).not.toContain("key=");
    expectNoJwt(request!, user.jwt);
  });

  test("the same JWT in two slots is fine; two different values → 401 and nothing upstream", async () => {
    const user = await env.newUser();
    await env.storeKey(user, provider);
    const same = await get(MODELS_PATH[provider], {
      authorization: `Bearer ${user.jwt}`,
      "x-api-key": user.jwt,
    });
    expect(same.res.status).toBe(200);

    const other = await mintToken({ sub: user.id, secret: env.secret, jti: "second" });
    env.secrets.push(other);
    for (const headers of [
      { authorization: `Bearer ${user.jwt}`, "x-api-key": other },
      { "x-goog-api-key": user.jwt, "x-api-key": other },
    ]) {
      const { res, request } = await get(MODELS_PATH[provider], headers);
      expect([res.status, res.headers.get("x-keygate-error")]).toEqual([401, "unauthorized"]);
      expect(request).toBeUndefined();
    }
    const { res, request } = await get(`${MODELS_PATH[provider]}?key=${other}`, {
      authorization: `Bearer ${user.jwt}`,
    });
    expect(res.status).toBe(401);
    expect(request).toBeUndefined();
  });

  test("cookie, proxy-authorization, x-keygate-*, openai-organization and openai-project are stripped; other headers pass", async () => {
    const user = await env.newUser();
    await env.storeKey(user, provider);
    const { res, request } = await get(MODELS_PATH[provider], {
      authorization: `Bearer ${user.jwt}`,
      cookie: `session=${user.jwt}`,
      "proxy-authorization": `Basic ${user.jwt}`,
      "x-keygate-user": "someone-else",
      "openai-organization": "org-test",
      "openai-project": "proj-test",
      "anthropic-version": "2023-06-01",
      "x-custom-header": "kept",
      "accept-encoding": "gzip, br",
    });

    expect(res.status).toBe(200);
    const h = request!.headers;
    for (const name of [
      "cookie",
      "proxy-authorization",
      "x-keygate-user",
      "openai-organization",
      "openai-project",
    ]) {
      expect(h[name], name).toBeUndefined();
    }
    expect(h["anthropic-version"]).toBe("2023-06-01");
    expect(h["x-custom-header"]).toBe("kept");
    expect(h["accept-encoding"]).toBe("identity");
    expectNoJwt(request!, user.jwt);
  });
});

test("keep_headers forwards openai-organization / openai-project, but never a credential", async () => {
  const user = await env.newUser();
  const key = await env.storeKey(user, "openai-kept", `sk-test-${user.id.replace(/[^A-Za-z0-9]/g, "")}`);
  const { res, request } = await get("/openai-kept/models", {
    authorization: `Bearer ${user.jwt}`,
    cookie: "session=abc",
    "openai-organization": "org-test",
    "openai-project": "proj-test",
  });

  expect(res.status).toBe(200);
  expect(request!.headers["openai-organization"]).toBe("org-test");
  expect(request!.headers["openai-project"]).toBe("proj-test");
  expect(request!.headers.cookie).toBeUndefined();
  expect(request!.headers.authorization).toBe(`Bearer ${key}`);
});

test("a request with no credential at all → 401 in the provider's shape", async () => {
  const e = await errorOf(await fetch(`${env.egress}/anthropic/v1/models`));
  expect([e.status, e.slug]).toEqual([401, "unauthorized"]);
  expect(e.body).toEqual({
    type: "error",
    error: { type: "authentication_error", message: expect.any(String) },
  });
});

test("every egress answer echoes the request id: the provider's answer and keygate's own errors", async () => {
  const user = await env.newUser();
  await env.storeKey(user, "openai");
  const ok = await fetch(`${env.egress}/openai/models`, {
    headers: { authorization: `Bearer ${user.jwt}`, "x-request-id": "egress-ok-1" },
  });
  await ok.arrayBuffer();
  expect([ok.status, ok.headers.get("x-request-id")]).toEqual([200, "egress-ok-1"]);
  const denied = await fetch(`${env.egress}/openai/models`, { headers: { "x-request-id": "egress-401-1" } });
  await denied.arrayBuffer();
  expect([denied.status, denied.headers.get("x-request-id")]).toEqual([401, "egress-401-1"]);
  const unknown = await fetch(`${env.egress}/nope/models`, {
    headers: { authorization: `Bearer ${user.jwt}` },
  });
  await unknown.arrayBuffer();
  expect(unknown.status).toBe(404);
  expect(unknown.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
});
