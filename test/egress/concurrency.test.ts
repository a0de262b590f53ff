/**
 * Issue 4: a `concurrent: 2` limit holds across two keygate processes sharing
 * one Redis: a third open stream is refused wherever it arrives, a finished
 * or abandoned stream frees its slot, and the leases of a process killed with
 * SIGKILL lapse on their own (lease TTL: 60 s, renewed every 20 s while a
 * stream is open — `gateway/limits/plan.ts`, `gateway/egress/call.ts`).
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { egressPolicy } from "../e2e-helpers/egress-env.ts";
import { fakeProviderKey } from "../e2e-helpers/fake-keys.ts";
import { firstChunk, postJson, within } from "../e2e-helpers/http.ts";
import { cappedChat } from "../e2e-helpers/llm-requests.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type KeygateProcess, spawnKeygate, testMasterKey, writePolicy } from "../helpers/keygate.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { type MockProviders, startMockProviders } from "../mocks/providers.ts";

const LEASE_TTL_MS = 60_000;
const secret = randomSecret();
const masterKey = testMasterKey();
let mocks: MockProviders;
let redis: RedisServer;
let policy: { file: string; dir: string };
let a: KeygateProcess;
let b: KeygateProcess;
/** Stored keys and JWTs: none may appear in any process's output. */
const secrets: string[] = [];
const outputs: (() => string)[] = [];

const spawn = () =>
  spawnKeygate(policy, { KEYGATE_JWT_SECRET: secret, KEYGATE_MASTER_KEYS: masterKey, REDIS_URL: redis.url });

beforeAll(async () => {
  mocks = await startMockProviders();
  redis = await startRedis();
  policy = await writePolicy(
    egressPolicy(mocks, {
      extra: "limits:\n  - { name: two-streams, scope: openai, per: user, concurrent: 2 }",
    }),
  );
  [a, b] = await Promise.all([spawn(), spawn()]);
  mocks.setBehaviour({ hang: "body" }, "openai");
});
afterAll(async () => {
  for (const output of outputs)
    for (const secretValue of secrets) expect(output().includes(secretValue)).toBe(false);
  await a?.stop("SIGKILL");
  await b?.stop("SIGKILL");
  await mocks.close();
  await redis.stop();
});

async function newUserWithKey(via: KeygateProcess): Promise<{ id: string; jwt: string; key: string }> {
  const id = `conc-${Math.random().toString(36).slice(2)}`;
  const jwt = await mintToken({ sub: id, secret });
  const key = fakeProviderKey("openai");
  secrets.push(jwt, key);
  const res = await fetch(`${via.urls.ingress}/_keygate/keys/openai`, {
    method: "PUT",
    headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
    body: JSON.stringify({ api_key: key }),
  });
  expect(res.status).toBe(200);
  return { id, jwt, key };
}

/** Opens a stream that stays open (the mock stalls after its first event) until `close()`. */
async function openStream(via: KeygateProcess, jwt: string) {
  const client = new AbortController();
  const { path, body } = cappedChat("openai", true, 16);
  const res = await postJson(
    `${via.urls.egress}${path}`,
    body,
    { authorization: `Bearer ${jwt}` },
    client.signal,
  );
  if (res.status !== 200) return { status: res.status, text: await res.text(), close: () => {} };
  await within(firstChunk(res), 5_000, "first chunk of an open stream");
  return { status: 200, text: "", close: () => client.abort() };
}

async function leaseScores(user: string): Promise<number[]> {
  const key = `kg:q:{u:${encodeURIComponent(user)}}:two-streams:c`;
  const raw = await redis.cli("zrange", key, "0", "-1", "WITHSCORES");
  return raw
    .split("\n")
    .filter((_, i) => i % 2 === 1)
    .map(Number);
}

test("two streams open (one per process): a third is refused on either process, in the openai shape", async () => {
  const user = await newUserWithKey(a);
  const s1 = await openStream(a, user.jwt);
  const s2 = await openStream(b, user.jwt);
  expect([s1.status, s2.status]).toEqual([200, 200]);
  for (const via of [a, b]) {
    const third = await openStream(via, user.jwt);
    expect(third.status).toBe(429);
    expect(JSON.parse(third.text)).toMatchObject({ error: { code: "rate_limit_exceeded" } });
  }
  expect((await leaseScores(user.id)).length).toBe(2);

  s1.close();
  // The slot is released once process A sees the client leave.
  for (let i = 0; (await leaseScores(user.id)).length !== 1 && i < 200; i++)
    await new Promise((r) => setTimeout(r, 25));
  const s3 = await openStream(b, user.jwt);
  expect(s3.status).toBe(200);
  s2.close();
  s3.close();
});

test("a SIGKILLed process's leases stay taken, but only until their TTL: none outlives now + 60 s", async () => {
  const user = await newUserWithKey(a);
  const victim = await spawn();
  const streams = [await openStream(victim, user.jwt), await openStream(victim, user.jwt)];
  expect(streams.map((s) => s.status)).toEqual([200, 200]);
  const killedAt = Date.now();
  await victim.stop("SIGKILL");

  // Nobody released them: the survivor still refuses a third stream.
  expect((await openStream(a, user.jwt)).status).toBe(429);
  const scores = await leaseScores(user.id);
  expect(scores.length).toBe(2);
  for (const expiry of scores) {
    expect(expiry).toBeGreaterThan(killedAt);
    expect(expiry).toBeLessThanOrEqual(killedAt + LEASE_TTL_MS + 1_000);
  }

  // Stand in for the passage of 60 s: move the leases' expiry into the past, as time would.
  const key = `kg:q:{u:${encodeURIComponent(user.id)}}:two-streams:c`;
  const members = (await redis.cli("zrange", key, "0", "-1")).split("\n");
  for (const member of members) await redis.cli("zadd", key, "XX", String(Date.now() - 1), member);
  const after = [await openStream(a, user.jwt), await openStream(b, user.jwt)];
  expect(after.map((s) => s.status)).toEqual([200, 200]);
  expect((await openStream(a, user.jwt)).status).toBe(429);
  for (const s of after) s.close();
});

// The real thing, for nightly runs: wait out the TTL instead of moving the clock.
test.runIf(process.env["KEYGATE_SLOW_TESTS"] === "1")(
  "slow: a SIGKILLed process's leases free their slots by themselves after the TTL",
  async () => {
    const user = await newUserWithKey(a);
    const victim = await spawn();
    for (let i = 0; i < 2; i++) expect((await openStream(victim, user.jwt)).status).toBe(200);
    await victim.stop("SIGKILL");
    expect((await openStream(a, user.jwt)).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, LEASE_TTL_MS + 1_000));
    const s = await openStream(a, user.jwt);
    expect(s.status).toBe(200);
    s.close();
  },
  LEASE_TTL_MS + 30_000,
);
