/**
 * What a drain leaves behind in the shared store. An LLM call holds a
 * concurrency lease and a token reservation; whether its stream finishes
 * during the drain or is cut at the deadline, the lease must be given back
 * and the reservation settled before the process exits — otherwise every
 * deploy locks users out of their concurrency slot for the lease lifetime
 * and charges them whole reservations for answers they never got.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { egressPolicy } from "../e2e-helpers/egress-env.ts";
import { fakeProviderKey } from "../e2e-helpers/fake-keys.ts";
import { chatRequest, postJson } from "../e2e-helpers/http.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type KeygateProcess, spawnKeygate, testMasterKey } from "../helpers/keygate.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { type MockProviders, startMockProviders } from "../mocks/providers.ts";
import { waitFor, within } from "./support.ts";

const secret = randomSecret();
const masterKey = testMasterKey();
const LIMIT = "{ name: llm-user, scope: openai, per: user, rate: 100/1m, tokens: 100000/1m, concurrent: 1 }";
let mocks: MockProviders;
let redis: RedisServer;

beforeAll(async () => {
  [mocks, redis] = await Promise.all([startMockProviders(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([mocks.close(), redis.stop()]);
});

const spawn = (drainTimeoutS: number) =>
  spawnKeygate(egressPolicy(mocks, { extra: `limits:\n  - ${LIMIT}` }), {
    KEYGATE_JWT_SECRET: secret,
    KEYGATE_MASTER_KEYS: masterKey,
    REDIS_URL: redis.url,
    KEYGATE_DRAIN_TIMEOUT: String(drainTimeoutS),
  });

/** Stores a key for `user`, starts a streamed chat of `pieces` pieces 40 ms apart, returns once it is flowing. */
async function streamingCall(kg: KeygateProcess, user: string, pieces: number) {
  const jwt = await mintToken({ sub: user, secret });
  const put = await fetch(`${kg.urls.ingress}/_keygate/keys/openai`, {
    method: "PUT",
    headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
    body: JSON.stringify({ api_key: fakeProviderKey("openai") }),
  });
  expect(put.status).toBe(200);
  await put.arrayBuffer();
  mocks.setBehaviour(
    { text: Array.from({ length: pieces }, (_, i) => `p${i} `), chunkDelayMs: 40 },
    "openai",
  );
  const { path, body } = chatRequest("openai", true);
  const res = await postJson(`${kg.urls.egress}${path}`, body, { authorization: `Bearer ${jwt}` });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read();
  const drained = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // cut at the deadline
    }
  })();
  return { drained };
}

const leases = (user: string) => redis.cli("zcard", `kg:q:{u:${user}}:llm-user:c`);
const tokens = async (user: string) =>
  Number((await redis.cli("hget", `kg:q:{u:${user}}:llm-user:t`, "n")) || 0);

async function sigtermAndExit(kg: KeygateProcess, drained: Promise<void>): Promise<void> {
  kg.child.kill("SIGTERM");
  await waitFor(async () => (await fetch(`${kg.urls.admin}/readyz`)).status === 503, "/readyz to answer 503");
  await within(drained, 8_000, "the stream to end");
  expect(await within(kg.exited, 8_000, "exit after drain")).toBe(0);
}

describe("leases and reservations after a drain", () => {
  test("a stream that finishes during the drain: lease released, tokens settled to the reported usage", async () => {
    const user = "lease-finished";
    const kg = await spawn(10);
    try {
      const { drained } = await streamingCall(kg, user, 20);
      expect(await leases(user)).toBe("1");
      await sigtermAndExit(kg, drained);
      expect(await leases(user)).toBe("0");
      // The mock reports 11 input + 7 output tokens.
      expect(await tokens(user)).toBe(18);
    } finally {
      if (kg.child.exitCode === null) kg.child.kill("SIGKILL");
    }
  });

  test("a stream cut at the drain deadline: lease released, nothing charged; the user can call again at once", async () => {
    // Giving back happens while the process shuts down; a few rounds so a lost release cannot slip through by luck.
    for (const round of [1, 2, 3]) {
      const user = `lease-cut-${round}`;
      const kg = await spawn(1);
      try {
        const { drained } = await streamingCall(kg, user, 300);
        expect(await leases(user)).toBe("1");
        await sigtermAndExit(kg, drained);
      } finally {
        if (kg.child.exitCode === null) kg.child.kill("SIGKILL");
      }
      expect({ round, leases: await leases(user), tokens: await tokens(user) }).toEqual({
        round,
        leases: "0",
        tokens: 0,
      });
    }
    // What users see: the next instance lets them make a call (concurrent: 1) straight away.
    const next = await spawn(5);
    try {
      const { path, body } = chatRequest("openai", false);
      mocks.setBehaviour({}, "openai");
      const res = await postJson(`${next.urls.egress}${path}`, body, {
        authorization: `Bearer ${await mintToken({ sub: "lease-cut-1", secret })}`,
      });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    } finally {
      expect(await next.stop()).toBe(0);
    }
  });
});
