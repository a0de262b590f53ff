/**
 * `REDIS_URL=rediss://…` against a real redis-server with TLS. A throwaway CA
 * and server certificate are made with openssl at run time; keygate is told
 * to trust the CA through Node's own `NODE_EXTRA_CA_CERTS` (keygate has no
 * setting of its own for a CA file). Without it, the certificate must be
 * refused, which proves keygate verifies the server.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type KeygateProcess, spawnKeygate, testMasterKey } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";
import { freePort, type RedisServer, startRedis } from "../helpers/redis.ts";
import { parseLogLines, policyWith, statuses, waitFor } from "./support.ts";
import { type Certificates, makeCertificates, tlsArgs } from "./tls-support.ts";

const secret = randomSecret();
let app: MockApp;
let redis: RedisServer;
let certs: Certificates;
let tlsUrl: string;

beforeAll(async () => {
  certs = await makeCertificates("IP:127.0.0.1");
  const tlsPort = await freePort();
  // The plain port stays open for the helper's PING and for reading counters; keygate uses the TLS port.
  redis = await startRedis(tlsArgs(certs, tlsPort));
  tlsUrl = `rediss://127.0.0.1:${tlsPort}`;
  app = await startMockApp();
}, 30_000);
afterAll(async () => {
  await Promise.all([app.close(), redis.stop()]);
  await certs.remove();
});

const spawn = (env: NodeJS.ProcessEnv) =>
  spawnKeygate(
    policyWith(["{ name: tls-user, scope: app, per: user, rate: 3/1m, on_store_failure: deny }"]),
    {
      KEYGATE_JWT_SECRET: secret,
      APP_URL: app.url,
      KEYGATE_MASTER_KEYS: testMasterKey(),
      REDIS_URL: tlsUrl,
      ...env,
    },
  );

describe("REDIS_URL=rediss://", () => {
  test("quotas are counted exactly in Redis over TLS", async () => {
    const kg = await spawn({ NODE_EXTRA_CA_CERTS: certs.ca });
    try {
      await waitFor(
        async () => (await fetch(`${kg.urls.admin}/readyz`)).status === 200,
        "readyz over TLS",
        10_000,
      );
      const token = await mintToken({ sub: "over-tls", secret });
      expect(await statuses(kg.urls.ingress, token, 4)).toEqual([200, 200, 200, 429]);
      expect(await redis.cli("hget", "kg:q:{u:over-tls}:tls-user:r", "n")).toBe("3");
    } finally {
      expect(await kg.stop()).toBe(0);
    }
  });
});

describe("rediss:// with a server certificate keygate does not trust", () => {
  let kg: KeygateProcess;
  beforeAll(async () => {
    kg = await spawn({});
  });
  afterAll(async () => {
    expect(await kg.stop()).toBe(0);
  });

  test("the certificate is refused: the store counts as unavailable (deny → 503), nothing is counted", async () => {
    const readyz = await fetch(`${kg.urls.admin}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toEqual({ store: "unavailable" });
    const token = await mintToken({ sub: "untrusted-tls", secret });
    expect(await statuses(kg.urls.ingress, token, 1)).toEqual([503]);
    expect(await redis.cli("exists", "kg:q:{u:untrusted-tls}:tls-user:r")).toBe("0");
  });

  test("the failure is reported through the logger only: JSON lines on stdout, nothing on stderr", async () => {
    const lines = parseLogLines(kg.stdout());
    expect(lines.some((l) => l["level"] === "warn" && String(l["msg"]).includes("store"))).toBe(true);
    expect(kg.stderr()).toBe("");
  });
});
