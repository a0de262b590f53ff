/**
 * Key API (SPEC §5): `POST /_keygate/keys/{provider}/verify` calls the
 * provider's cheapest authenticated endpoint with the stored key: 2xx →
 * valid, 401/403 → invalid, anything else → 502; no key → 404.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { fakeProviderKey } from "../e2e-helpers/fake-keys.ts";
import { keyApi } from "../e2e-helpers/key-api.ts";

const PROVIDERS = ["openai", "anthropic", "google"] as const;

/** What the verify call must hit on each mock, and in which slot the key goes. */
const EXPECTED: Readonly<
  Record<(typeof PROVIDERS)[number], { url: string; slot: string; value: (k: string) => string }>
> = {
  openai: { url: "/v1/models", slot: "authorization", value: (k) => `Bearer ${k}` },
  anthropic: { url: "/v1/models", slot: "x-api-key", value: (k) => k },
  google: { url: "/v1beta/models", slot: "x-goog-api-key", value: (k) => k },
};

let env: EgressEnv;
beforeAll(async () => {
  env = await startEgressEnv({ extra: '  offline: { base_url: "http://127.0.0.1:9" }' });
});
afterEach(() => {
  env.mocks.setBehaviour({});
  env.assertLogsClean();
});
afterAll(async () => {
  await env.stop();
});

describe.each(PROVIDERS)("%s", (provider) => {
  test("upstream 200 → 200 {valid:true,status:200}; the stored key went in the provider's slot", async () => {
    const user = await env.newUser();
    const key = await env.storeKey(user, provider);
    const seen = env.mocks.nextRequest();
    const res = await keyApi(env.ingress, user.jwt).verify(provider);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ valid: true, status: 200 });
    const request = await seen;
    expect([request.provider, request.method, request.url]).toEqual([
      provider,
      "GET",
      EXPECTED[provider].url,
    ]);
    expect(request.headers[EXPECTED[provider].slot]).toBe(EXPECTED[provider].value(key));
    for (const value of Object.values(request.headers).flat()) expect(String(value)).not.toContain(user.jwt);
    if (provider === "anthropic") expect(request.headers["anthropic-version"]).toBe("2023-06-01");
  });

  test.each([401, 403])(
    "upstream %i → 200 {valid:false,status:%i}, and the key is still stored",
    async (status) => {
      const user = await env.newUser();
      await env.storeKey(user, provider);
      env.mocks.setBehaviour({ acceptKeys: [fakeProviderKey(provider)], authErrorStatus: status }, provider);
      const res = await keyApi(env.ingress, user.jwt).verify(provider);

      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ valid: false, status });
      expect((await keyApi(env.ingress, user.jwt).get(provider)).status).toBe(200);
    },
  );

  test.each([500, 503, 429])(
    "upstream %i → 502 problem+json (cannot tell, so not called invalid)",
    async (status) => {
      const user = await env.newUser();
      await env.storeKey(user, provider);
      env.mocks.setBehaviour({ fail: { status } }, provider);
      const res = await keyApi(env.ingress, user.jwt).verify(provider);

      expect(res.status).toBe(502);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(((await res.json()) as { type: string }).type).toMatch(/^urn:keygate:problem:upstream-/);
    },
  );

  test("no key stored → 404 and nothing sent upstream", async () => {
    const user = await env.newUser();
    const before = env.mocks.requests.length;
    const res = await keyApi(env.ingress, user.jwt).verify(provider);
    expect(res.status).toBe(404);
    expect(res.headers.get("x-keygate-error")).toBe("not-found");
    await res.arrayBuffer();
    expect(env.mocks.requests.length).toBe(before);
  });
});

test("a provider that refuses the connection → 502 (SPEC §5: anything but 2xx/401/403)", async () => {
  const user = await env.newUser();
  await env.storeKey(user, "offline", `sk-test-${user.id}`);
  const res = await keyApi(env.ingress, user.jwt).verify("offline");
  expect(res.status).toBe(502);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  await res.arrayBuffer();
});

test("google: the real API's 400 API_KEY_INVALID for a bad key → 200 {valid:false,status:400}", async () => {
  const user = await env.newUser();
  await env.storeKey(user, "google");
  env.mocks.setBehaviour({ acceptKeys: [fakeProviderKey("google")], authErrorStatus: 400 }, "google");
  const res = await keyApi(env.ingress, user.jwt).verify("google");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ valid: false, status: 400 });
});
