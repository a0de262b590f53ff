/**
 * Key API (SPEC §5): a user reaches only their own keys. The user comes from
 * the token alone; no path trick, query, header or user id of an odd shape
 * lets user A read, verify or delete user B's key.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv, type TestUser } from "../e2e-helpers/egress-env.ts";
import { hintOf, keyApi } from "../e2e-helpers/key-api.ts";
import { rawRequest } from "../e2e-helpers/raw-request.ts";
import { mintToken } from "../helpers/jwt.ts";

let env: EgressEnv;
let a: TestUser;
let b: TestUser;
let bKey: string;
beforeAll(async () => {
  env = await startEgressEnv();
});
afterEach(async () => {
  // B's key is still there, untouched, whatever A tried.
  const res = await keyApi(env.ingress, b.jwt).get("openai");
  expect(res.status).toBe(200);
  expect(((await res.json()) as { hint: string }).hint).toBe(hintOf(bKey));
  env.assertLogsClean();
});
afterAll(async () => {
  await env.stop();
});

async function pair(): Promise<void> {
  a = await env.newUser("a");
  b = await env.newUser("b");
  bKey = await env.storeKey(b, "openai");
}

describe("A, who has no key, never gets B's", () => {
  test.each([
    ["GET", "/_keygate/keys/openai"],
    ["GET", "/_keygate/keys/OPENAI"],
    ["GET", "/_keygate/keys/Openai"],
    ["GET", "/_keygate/keys/%6fpenai"],
    ["GET", "/_keygate/keys/openai%2f"],
    ["GET", "/_keygate/keys/B%2fopenai"],
    ["GET", "/_keygate/keys/..%2fB%2fopenai"],
    ["GET", "/_keygate/keys/B/../openai"],
    ["GET", "/_keygate/keys/openai?user=B"],
    ["GET", "/_keygate/keys/openai?sub=B"],
    ["GET", "/_keygate/users/B/keys/openai"],
    ["GET", "/_keygate/keys/%2e%2e/keys/openai"],
    ["POST", "/_keygate/keys/openai/verify"],
    ["POST", "/_keygate/keys/OPENAI/verify"],
    ["POST", "/_keygate/keys/openai%2fverify"],
    ["DELETE", "/_keygate/keys/openai"],
    ["DELETE", "/_keygate/keys/B%2fopenai"],
    ["DELETE", "/_keygate/keys/Openai"],
  ])("%s %s → 4xx, no hint of B's key", async (method, template) => {
    await pair();
    const target = template.replaceAll("B", encodeURIComponent(b.id));
    const res = await rawRequest(
      env.ingress,
      target,
      { authorization: `Bearer ${a.jwt}`, "x-keygate-user": b.id },
      { method },
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body).not.toContain(hintOf(bKey));
    expect(res.body).not.toContain(bKey);
  });

  test("A's list is empty while B's holds B's key", async () => {
    await pair();
    expect(await (await keyApi(env.ingress, a.jwt).list()).json()).toEqual({ keys: [] });
    const list = (await (await keyApi(env.ingress, b.jwt).list()).json()) as { keys: { hint: string }[] };
    expect(list.keys.map((k) => k.hint)).toEqual([hintOf(bKey)]);
  });

  test("A's egress call with no key of its own is refused; B's key is never used for A", async () => {
    await pair();
    const before = env.mocks.requests.length;
    const res = await fetch(`${env.egress}/openai/models`, {
      headers: { authorization: `Bearer ${a.jwt}`, "x-keygate-user": b.id },
    });
    expect([res.status, res.headers.get("x-keygate-error")]).toEqual([400, "provider-key-missing"]);
    expect(env.mocks.requests.length).toBe(before);
  });
});

describe("user ids of odd shapes do not collide", () => {
  test.each(["__proto__", "constructor", "x/y", "x:openai", "x{y}", "*", "x%2fy", "X"])(
    "the user %s and a plain user x keep separate keys",
    async (odd) => {
      await pair();
      const oddUser = { id: odd, jwt: await mintToken({ sub: odd, secret: env.secret }) };
      const plain = { id: "x", jwt: await mintToken({ sub: "x", secret: env.secret }) };
      env.secrets.push(oddUser.jwt, plain.jwt);
      const plainKey = await env.storeKey(plain, "openai");
      const oddKey = await env.storeKey(oddUser, "openai");

      for (const [user, key] of [
        [plain, plainKey],
        [oddUser, oddKey],
      ] as const) {
        const list = (await (await keyApi(env.ingress, user.jwt).list()).json()) as {
          keys: { hint: string }[];
        };
        expect(list.keys.map((k) => k.hint)).toEqual([hintOf(key)]);
        const seen = env.mocks.nextRequest();
        await (
          await fetch(`${env.egress}/openai/models`, { headers: { authorization: `Bearer ${user.jwt}` } })
        ).arrayBuffer();
        expect((await seen).key).toBe(key);
      }
      expect((await keyApi(env.ingress, oddUser.jwt).remove("openai")).status).toBe(204);
      expect((await keyApi(env.ingress, plain.jwt).get("openai")).status).toBe(200);
    },
  );
});
