/**
 * Key API (SPEC §5): put, list, get, delete with exact bodies; the hint shows
 * first 3 + `…` + last 4; timestamps are RFC 3339 UTC and `created_at`
 * survives an update. The key itself is never returned.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { fakeProviderKey } from "../e2e-helpers/fake-keys.ts";
import { hintOf, keyApi, RFC3339_UTC } from "../e2e-helpers/key-api.ts";

let env: EgressEnv;
beforeAll(async () => {
  env = await startEgressEnv();
});
afterEach(() => env.assertLogsClean());
afterAll(async () => {
  await env.stop();
});

interface Entry {
  provider: string;
  hint: string;
  created_at: string;
  updated_at: string;
}

test.each(["openai", "anthropic", "google"] as const)(
  "PUT %s → 200 with provider, hint and timestamps; never the key",
  async (provider) => {
    const user = await env.newUser();
    const key = fakeProviderKey(provider);
    env.secrets.push(key);
    const res = await keyApi(env.ingress, user.jwt).put(provider, { api_key: key });
    const text = await res.text();

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(text).not.toContain(key);
    const body = JSON.parse(text) as Entry;
    expect(Object.keys(body).sort()).toEqual(["created_at", "hint", "provider", "updated_at"]);
    expect(body.provider).toBe(provider);
    expect(body.hint).toBe(hintOf(key));
    expect(body.created_at).toMatch(RFC3339_UTC);
    expect(body.updated_at).toBe(body.created_at);
  },
);

test("GET /keys lists every stored key; GET /keys/{p} returns one entry; both equal the PUT answer", async () => {
  const user = await env.newUser();
  const api = keyApi(env.ingress, user.jwt);
  expect(await (await api.list()).json()).toEqual({ keys: [] });
  const stored: Entry[] = [];
  for (const provider of ["openai", "google"] as const) {
    const key = fakeProviderKey(provider);
    env.secrets.push(key);
    stored.push((await (await api.put(provider, { api_key: key })).json()) as Entry);
  }

  const list = await api.list();
  expect(list.status).toBe(200);
  const { keys } = (await list.json()) as { keys: Entry[] };
  const byProvider = (a: Entry, b: Entry) => a.provider.localeCompare(b.provider);
  expect([...keys].sort(byProvider)).toEqual([...stored].sort(byProvider));
  const one = await api.get("google");
  expect(one.status).toBe(200);
  expect(await one.json()).toEqual(stored[1]);
  const none = await api.get("anthropic");
  expect(none.status).toBe(404);
  expect(none.headers.get("content-type")).toBe("application/problem+json");
  expect(await none.json()).toMatchObject({ type: "urn:keygate:problem:not-found", status: 404 });
});

test("PUT again replaces the key: new hint and updated_at, created_at kept, and egress uses the new key", async () => {
  const user = await env.newUser();
  const api = keyApi(env.ingress, user.jwt);
  const first = fakeProviderKey("openai");
  const second = fakeProviderKey("openai");
  env.secrets.push(first, second);
  const a = (await (await api.put("openai", { api_key: first })).json()) as Entry;
  await new Promise((resolve) => setTimeout(resolve, 1100)); // timestamps may have whole-second precision
  const b = (await (await api.put("openai", { api_key: second })).json()) as Entry;

  expect(b.created_at).toBe(a.created_at);
  expect(b.hint).toBe(hintOf(second));
  expect(Date.parse(b.updated_at)).toBeGreaterThan(Date.parse(a.updated_at));
  expect(await (await api.get("openai")).json()).toEqual(b);

  const seen = env.mocks.nextRequest();
  const res = await fetch(`${env.egress}/openai/models`, {
    headers: { authorization: `Bearer ${user.jwt}` },
  });
  expect(res.status).toBe(200);
  expect((await seen).key).toBe(second);
});

test("DELETE → 204 with no body, then 404; GET and egress see no key afterwards", async () => {
  const user = await env.newUser();
  const api = keyApi(env.ingress, user.jwt);
  await env.storeKey(user, "anthropic");
  const res = await api.remove("anthropic");

  expect(res.status).toBe(204);
  expect(await res.text()).toBe("");
  expect((await api.get("anthropic")).status).toBe(404);
  expect(await (await api.list()).json()).toEqual({ keys: [] });
  const again = await api.remove("anthropic");
  expect(again.status).toBe(404);
  expect(again.headers.get("x-keygate-error")).toBe("not-found");
  const egress = await fetch(`${env.egress}/anthropic/v1/models`, { headers: { "x-api-key": user.jwt } });
  expect([egress.status, egress.headers.get("x-keygate-error")]).toEqual([400, "provider-key-missing"]);
});

test("a key with surrounding whitespace is stored trimmed", async () => {
  const user = await env.newUser();
  const key = fakeProviderKey("openai");
  env.secrets.push(key);
  const res = await keyApi(env.ingress, user.jwt).put("openai", { api_key: `  ${key}\n` });
  expect(res.status).toBe(200);
  expect(((await res.json()) as Entry).hint).toBe(hintOf(key));
  const seen = env.mocks.nextRequest();
  await (
    await fetch(`${env.egress}/openai/models`, { headers: { authorization: `Bearer ${user.jwt}` } })
  ).arrayBuffer();
  expect((await seen).key).toBe(key);
});
