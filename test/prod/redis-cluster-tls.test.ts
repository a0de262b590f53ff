/**
 * `REDIS_CLUSTER_NODES` + `REDIS_CLUSTER_TLS=1` against real TLS-only
 * clusters: one whose nodes are known by IP (certificate for
 * `IP:127.0.0.1`), and one shaped like ElastiCache/MemoryDB with in-transit
 * encryption, whose certificate names only a hostname and whose nodes
 * announce that hostname. The CA is trusted through `NODE_EXTRA_CA_CERTS`.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { spawnKeygate, testMasterKey } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";
import { policyWith, statuses } from "./support.ts";
import { type Certificates, makeCertificates, startTlsCluster, type TlsCluster } from "./tls-support.ts";

const secret = randomSecret();
let app: MockApp;

beforeAll(async () => {
  app = await startMockApp();
});
afterAll(async () => {
  await app.close();
});

/** Spawns keygate on the cluster, waits (bounded) for the store, then spends a 3/1m deny limit. */
async function quotaOverTls(certs: Certificates, seeds: string, user: string): Promise<number[]> {
  const kg = await spawnKeygate(
    policyWith(["{ name: tls-cluster, scope: app, per: user, rate: 3/1m, on_store_failure: deny }"]),
    {
      KEYGATE_JWT_SECRET: secret,
      APP_URL: app.url,
      KEYGATE_MASTER_KEYS: testMasterKey(),
      REDIS_CLUSTER_NODES: seeds,
      REDIS_CLUSTER_TLS: "1",
      NODE_EXTRA_CA_CERTS: certs.ca,
    },
  );
  try {
    // Up to 5 s for the cluster connection; a store that never becomes ready shows up as 503s below.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && (await fetch(`${kg.urls.admin}/readyz`)).status !== 200) {
      await new Promise((r) => setTimeout(r, 100));
    }
    return await statuses(kg.urls.ingress, await mintToken({ sub: user, secret }), 4);
  } finally {
    expect(await kg.stop()).toBe(0);
  }
}

describe("a TLS cluster whose nodes are known by IP", () => {
  let certs: Certificates;
  let cluster: TlsCluster;
  beforeAll(async () => {
    certs = await makeCertificates("IP:127.0.0.1");
    cluster = await startTlsCluster(certs);
  }, 30_000);
  afterAll(async () => {
    await cluster.stop();
    await certs.remove();
  });

  test("quotas are counted exactly", async () => {
    expect(await quotaOverTls(certs, cluster.seeds("127.0.0.1"), "tls-ip")).toEqual([200, 200, 200, 429]);
    expect(await cluster.cli("hget", "kg:q:{u:tls-ip}:tls-cluster:r", "n")).toBe("3");
  });
});

describe("a TLS cluster shaped like ElastiCache: hostname-only certificate, nodes announce the hostname", () => {
  let certs: Certificates;
  let cluster: TlsCluster;
  beforeAll(async () => {
    certs = await makeCertificates("DNS:localhost");
    cluster = await startTlsCluster(certs, "localhost");
  }, 30_000);
  afterAll(async () => {
    await cluster.stop();
    await certs.remove();
  });

  test("quotas are counted exactly with hostname seeds", async () => {
    expect(await quotaOverTls(certs, cluster.seeds("localhost"), "tls-host")).toEqual([200, 200, 200, 429]);
    expect(await cluster.cli("hget", "kg:q:{u:tls-host}:tls-cluster:r", "n")).toBe("3");
  });
});
