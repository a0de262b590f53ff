/**
 * Issue 3: no request target or `Host` header can move an egress call to
 * another host or another provider (SPEC §4: `..`, encoded slashes and
 * absolute URLs never change the upstream host). A bystander server records
 * anything that reaches it; it must stay empty.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import { type EgressEnv, startEgressEnv, type TestUser } from "../e2e-helpers/egress-env.ts";
import { rawRequest } from "../e2e-helpers/raw-request.ts";

let env: EgressEnv;
let evil: Server;
let evilHost: string;
const evilSaw: string[] = [];
let user: TestUser;
let openaiKey: string;

beforeAll(async () => {
  evil = createServer((req, res) => {
    evilSaw.push(`${req.method} ${req.url}`);
    res.end("evil");
  });
  await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
  evilHost = `127.0.0.1:${(evil.address() as AddressInfo).port}`;
  env = await startEgressEnv();
});
beforeEach(async () => {
  user = await env.newUser();
  openaiKey = await env.storeKey(user, "openai");
  await env.storeKey(user, "anthropic");
});
afterEach(() => {
  expect(evilSaw).toEqual([]);
  env.assertLogsClean();
});
afterAll(async () => {
  await env.stop();
  await new Promise((resolve) => evil.close(resolve));
});

/** Sends `target` raw; returns the status and the upstream request it caused (if any). */
async function send(target: string, headers: Record<string, string> = {}) {
  const before = env.mocks.requests.length;
  const res = await rawRequest(env.egress, target, { authorization: `Bearer ${user.jwt}`, ...headers });
  const caused = env.mocks.requests.slice(before);
  expect(caused.length).toBeLessThanOrEqual(1);
  return { status: res.status, body: res.body, upstream: caused[0] };
}

test.each([
  // [target, expected upstream path on the openai mock]
  ["/openai/models", "/v1/models"],
  ["/openai//models", "/v1/models"],
  ["/openai/./models", "/v1/models"],
  ["/openai/x/../models", "/v1/models"],
  ["/openai/x/%2e%2e/models", "/v1/models"],
  ["/openai/x/%2E%2e/models", "/v1/models"],
])("%s stays on the openai mock at %s", async (target, path) => {
  const { status, upstream } = await send(target);
  expect(status).toBe(200);
  expect(upstream?.provider).toBe("openai");
  expect(upstream?.url).toBe(path);
  expect(upstream?.key).toBe(openaiKey);
});

test.each([
  "/openai/../anthropic/v1/models",
  "/openai/%2e%2e/anthropic/v1/models",
  "/openai/..%2fanthropic/v1/models",
  "/openai/x/..%2F..%2F..%2Fanthropic/v1/models",
  "/openai/%2f%2fEVIL/models",
  "/openai/x%5c..%5c..%5canthropic/v1/models",
  "/openai/..",
  "/../openai/models",
  "/%2e%2e/openai/models",
])("%s is refused with 400 and sends nothing upstream", async (target) => {
  const { status, body, upstream } = await send(target.replace("EVIL", evilHost));
  expect(status).toBe(400);
  expect(JSON.parse(body).error.code).toBe("bad_request");
  expect(upstream).toBeUndefined();
});

test.each([
  // [what, target, status, upstream path on the openai mock or undefined]
  ["a scheme-relative path (host read as the provider)", () => `//${evilHost}/openai/models`, 404, undefined],
  ["an absolute-form target", () => `http://${evilHost}/openai/models`, 400, undefined],
  [
    "an absolute URL after the provider",
    () => `/openai/http://${evilHost}/models`,
    404,
    () => `/v1/http:/${evilHost}/models`,
  ],
  ["a userinfo-looking segment", () => `/openai/@${evilHost}/models`, 404, () => `/v1/@${evilHost}/models`],
] as const)("%s never reaches another host", async (_, target, status, path) => {
  const sent = await send(target());
  expect(sent.status).toBe(status);
  expect(sent.upstream?.url).toBe(path?.());
  if (sent.upstream) expect(sent.upstream.provider).toBe("openai");
});

test("a Host header naming another server changes nothing: the provider gets the call", async () => {
  const { status, upstream } = await send("/openai/models", { host: evilHost });
  expect(status).toBe(200);
  expect(upstream?.provider).toBe("openai");
  expect(upstream?.url).toBe("/v1/models");
  expect(upstream?.headers.host).not.toBe(evilHost);
});

test("an unknown provider segment, however encoded, is a 404 and nothing is sent", async () => {
  for (const target of ["/evil/models", "/%6fpenai%2fmodels", "/OPENAI/models"]) {
    const { status, upstream } = await send(target);
    expect([target, status]).toEqual([target, target === "/%6fpenai%2fmodels" ? 400 : 404]);
    expect(upstream).toBeUndefined();
  }
});
