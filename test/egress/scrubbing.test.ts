/**
 * Issue 3: the key sent upstream never reaches the client — not in an error
 * that quotes it, not split across two transport chunks, not in a response
 * header — and no log line holds a stored key or a JWT.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv } from "../e2e-helpers/egress-env.ts";
import { fakeProviderKey } from "../e2e-helpers/fake-keys.ts";
import { chatRequest, postJson } from "../e2e-helpers/http.ts";

const PROVIDERS = ["openai", "anthropic", "google"] as const;

/** A tiny "custom" provider that answers with whatever the test puts in `next`. */
let next: { status: number; headers: Record<string, string>; body: string } = {
  status: 200,
  headers: {},
  body: "",
};
let custom: Server;
let customUrl: string;
let env: EgressEnv;
beforeAll(async () => {
  custom = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(next.status, next.headers).end(next.body));
  });
  await new Promise<void>((resolve) => custom.listen(0, "127.0.0.1", resolve));
  customUrl = `http://127.0.0.1:${(custom.address() as AddressInfo).port}`;
  env = await startEgressEnv({ extra: `  custom: { base_url: "${customUrl}" }` });
});
afterEach(() => {
  env.mocks.setBehaviour({});
  env.assertLogsClean();
});
afterAll(async () => {
  await env.stop();
  await new Promise((resolve) => custom.close(resolve));
});

async function call(provider: (typeof PROVIDERS)[number], stream: boolean, jwt: string): Promise<Response> {
  const { path, body } = chatRequest(provider, stream);
  return postJson(`${env.egress}${path}`, body, { authorization: `Bearer ${jwt}` });
}

describe.each(PROVIDERS)("%s", (provider) => {
  test("an upstream auth error that quotes the key comes back with [REDACTED] in its place", async () => {
    const user = await env.newUser();
    const key = await env.storeKey(user, provider);
    env.mocks.setBehaviour({ acceptKeys: [fakeProviderKey(provider)] }, provider);
    const res = await call(provider, false, user.jwt);
    const text = await res.text();

    expect(res.status).toBe(401);
    expect(res.headers.get("x-keygate-error")).toBeNull();
    expect(text).not.toContain(key);
    expect(text).toContain("[REDACTED]");
  });

  test.each([false, true])(
    "a key split across two chunks of a 2xx answer is redacted (stream: %s)",
    async (stream) => {
      const user = await env.newUser();
      const key = await env.storeKey(user, provider);
      env.mocks.setBehaviour({ keyInBody: true }, provider);
      const res = await call(provider, stream, user.jwt);
      const text = await res.text();

      expect(res.status).toBe(200);
      expect(text).not.toContain(key);
      // Neither half survives on its own either.
      expect(text).not.toContain(key.slice(0, Math.ceil(key.length / 2)));
      expect(text).not.toContain(key.slice(Math.ceil(key.length / 2)));
      expect(text).toContain(" your key is [REDACTED].");
    },
  );

  test("the key echoed in a response header is redacted", async () => {
    const user = await env.newUser();
    const key = await env.storeKey(user, provider);
    env.mocks.setBehaviour({ echoKeyHeader: true }, provider);
    const res = await call(provider, false, user.jwt);
    await res.arrayBuffer();

    expect(res.status).toBe(200);
    expect(res.headers.get("x-mock-echo-key")).toBe("[REDACTED]");
    for (const [, value] of res.headers) expect(value).not.toContain(key);
  });
});

describe("key shapes other than the user's own key", () => {
  test("in a non-2xx body and in headers they are redacted; in a 2xx body they are left alone", async () => {
    const user = await env.newUser();
    await env.storeKey(user, "custom", `custom-${fakeProviderKey("openai").slice(3)}`);
    const foreign = fakeProviderKey("anthropic");
    const google = fakeProviderKey("google");

    next = {
      status: 500,
      headers: { "content-type": "application/json", "x-debug": `k=${google}` },
      body: `{"error":"leaked ${foreign}"}`,
    };
    const failed = await fetch(`${env.egress}/custom/anything`, {
      headers: { authorization: `Bearer ${user.jwt}` },
    });
    expect(failed.status).toBe(500);
    expect(await failed.text()).toBe('{"error":"leaked [REDACTED]"}');
    expect(failed.headers.get("x-debug")).toBe("k=[REDACTED]");

    // A 2xx body is scrubbed for the exact key only (embeddings can look like keys).
    next = { status: 200, headers: { "content-type": "application/json" }, body: `{"data":"${foreign}"}` };
    const ok = await fetch(`${env.egress}/custom/anything`, {
      headers: { authorization: `Bearer ${user.jwt}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe(`{"data":"${foreign}"}`);
    env.secrets.push(foreign, google);
  });
});
