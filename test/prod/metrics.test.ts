/**
 * Every metric that a dashboard, alarm or collector config under deploy/
 * names is exported by a running keygate process, and the series the alarms
 * select (by label) really appear once the matching traffic happened.
 */
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { metricNamesUsedByDeploy, seriesNamesFromExposition } from "../deploy/metric-names.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type KeygateProcess, spawnKeygate, testMasterKey } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { parseLogLines, policyWith, sampleValue, statuses, waitFor } from "./support.ts";

const secret = randomSecret();
const POLICY = policyWith(["{ name: metered, scope: app, per: user, rate: 2/1m }"]);
let app: MockApp;
let redis: RedisServer;
let kg: KeygateProcess;
let exposition: string;

beforeAll(async () => {
  [app, redis] = await Promise.all([startMockApp(), startRedis()]);
  kg = await spawnKeygate(POLICY, {
    KEYGATE_JWT_SECRET: secret,
    APP_URL: app.url,
    REDIS_URL: redis.url,
    KEYGATE_MASTER_KEYS: testMasterKey(),
  });
  await waitFor(async () => (await fetch(`${kg.urls.admin}/readyz`)).status === 200, "readyz", 10_000);
  // Traffic the alarms watch: passing and rejected app requests, and one rejected policy reload.
  expect(await statuses(kg.urls.ingress, await mintToken({ sub: "metered", secret }), 3)).toEqual([
    200, 200, 429,
  ]);
  await writeFile(kg.policyFile, `${POLICY}  - { name: broken, rate: nope }\n`);
  await waitFor(
    () =>
      parseLogLines(kg.stdout()).some(
        (l) => l["msg"] === "policy reload rejected; the running policy stays in force",
      ),
    "the rejected reload",
  );
  exposition = await (await fetch(`${kg.urls.admin}/metrics`)).text();
}, 30_000);
afterAll(async () => {
  expect(await kg.stop()).toBe(0);
  await Promise.all([app.close(), redis.stop()]);
});

describe("metrics used by deploy/", () => {
  test("every metric name in deploy/ dashboards, alarms and collector configs is exported", async () => {
    const used = await metricNamesUsedByDeploy();
    expect(used.size).toBeGreaterThan(0);
    const exported = seriesNamesFromExposition(exposition);
    expect([...used].filter((name) => !exported.has(name)).sort()).toEqual([]);
  });

  test("the series the alarms select by label exist after the matching traffic", () => {
    const requests = { listener: "ingress", route: "app" };
    expect(sampleValue(exposition, "keygate_requests_total", { ...requests, status: "200" })).toBe(2);
    expect(sampleValue(exposition, "keygate_requests_total", { ...requests, status: "429" })).toBe(1);
    expect(
      sampleValue(exposition, "keygate_ratelimit_rejections_total", { limit: "metered", kind: "requests" }),
    ).toBe(1);
    expect(sampleValue(exposition, "keygate_policy_reloads_total", { result: "error" })).toBe(1);
    expect(sampleValue(exposition, "keygate_store_degraded")).toBe(0);
    expect(sampleValue(exposition, "keygate_draining")).toBe(0);
    expect(
      sampleValue(exposition, "keygate_request_duration_seconds_count", {
        listener: "ingress",
        route: "app",
      }),
    ).toBe(3);
  });
});
