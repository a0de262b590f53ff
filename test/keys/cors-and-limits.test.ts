/**
 * Key API (SPEC §5): browsers on `cors.origins` may call it — preflights are
 * answered without a token, other origins get no CORS headers — and `keys`
 * scope limits apply to it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { fakeProviderKey } from "../e2e-helpers/fake-keys.ts";
import { keyApi } from "../e2e-helpers/key-api.ts";

const ALLOWED = "https://app.example.com";
const OTHER = "https://evil.example.com";

let env: EgressEnv;
beforeAll(async () => {
  env = await startEgressEnv({
    extra: `cors: { origins: ["${ALLOWED}"] }
limits:
  - { name: key-writes, scope: keys, per: user, rate: 2/1m, methods: [PUT] }`,
  });
});
afterEach(() => env.assertLogsClean());
afterAll(async () => {
  await env.stop();
});

function preflight(origin: string, method = "PUT"): Promise<Response> {
  return fetch(`${env.ingress}/_keygate/keys/openai`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "authorization, content-type",
    },
  });
}

describe("CORS", () => {
  test("a preflight from an allowed origin passes without a token and allows the methods and headers", async () => {
    const res = await preflight(ALLOWED);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    const methods = (res.headers.get("access-control-allow-methods") ?? "").split(/,\s*/).sort();
    expect(methods).toEqual(["DELETE", "GET", "POST", "PUT"]);
    const headers = (res.headers.get("access-control-allow-headers") ?? "")
      .toLowerCase()
      .split(/,\s*/)
      .sort();
    expect(headers).toEqual(["authorization", "content-type"]);
    expect(res.headers.get("vary")?.toLowerCase()).toContain("origin");
  });

  test("a preflight from another origin gets no Access-Control-Allow-Origin", async () => {
    const res = await preflight(OTHER);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    await res.arrayBuffer();
  });

  test("actual requests: the allowed origin is echoed, another origin gets none", async () => {
    const user = await env.newUser();
    const allowed = await fetch(`${env.ingress}/_keygate/keys`, {
      headers: { authorization: `Bearer ${user.jwt}`, origin: ALLOWED },
    });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(await allowed.json()).toEqual({ keys: [] });
    const other = await fetch(`${env.ingress}/_keygate/keys`, {
      headers: { authorization: `Bearer ${user.jwt}`, origin: OTHER },
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    await other.arrayBuffer();
  });

  test("error answers to an allowed origin carry CORS headers too, so the page can read them", async () => {
    const res = await fetch(`${env.ingress}/_keygate/keys`, { headers: { origin: ALLOWED } });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    await res.arrayBuffer();
  });

  test("a preflight is not counted against keys limits", async () => {
    const user = await env.newUser();
    for (let i = 0; i < 3; i++) expect((await preflight(ALLOWED)).status).toBe(204);
    const key = fakeProviderKey("openai");
    env.secrets.push(key);
    const res = await keyApi(env.ingress, user.jwt).put("openai", { api_key: key });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit")).toMatch(/^"key-writes";r=1;t=\d+$/);
  });
});

describe("keys scope limits", () => {
  test("rate 2/1m on PUT: the third PUT is 429 problem+json and stores nothing; GETs are not limited", async () => {
    const user = await env.newUser();
    const api = keyApi(env.ingress, user.jwt);
    const keys = [fakeProviderKey("openai"), fakeProviderKey("openai"), fakeProviderKey("openai")];
    env.secrets.push(...keys);
    const first = await api.put("openai", { api_key: keys[0] });
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-policy")).toBe('"key-writes";q=2;w=60');
    expect(first.headers.get("ratelimit")).toMatch(/^"key-writes";r=1;t=(60|59)$/);
    expect((await api.put("openai", { api_key: keys[1] })).status).toBe(200);
    const before = await (await api.get("openai")).json();

    const third = await api.put("openai", { api_key: keys[2] });
    expect(third.status).toBe(429);
    expect(third.headers.get("content-type")).toBe("application/problem+json");
    expect(third.headers.get("x-keygate-error")).toBe("rate-limited");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(third.headers.get("ratelimit")).toMatch(/^"key-writes";r=0;t=\d+$/);
    expect(await third.json()).toMatchObject({
      type: "urn:keygate:problem:rate-limited",
      status: 429,
      "violated-policies": ["key-writes"],
    });
    expect(await (await api.get("openai")).json()).toEqual(before);
    for (let i = 0; i < 3; i++) expect((await api.list()).status).toBe(200);
  });

  test("the budget is per user", async () => {
    const [u1, u2] = [await env.newUser(), await env.newUser()];
    for (let i = 0; i < 2; i++) await env.storeKey(u1, "openai");
    const key = fakeProviderKey("openai");
    env.secrets.push(key);
    expect((await keyApi(env.ingress, u1.jwt).put("openai", { api_key: key })).status).toBe(429);
    expect((await keyApi(env.ingress, u2.jwt).put("openai", { api_key: key })).status).toBe(200);
  });
});
