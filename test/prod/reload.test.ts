/**
 * Hot reload of policies.yaml in a running keygate (in-process, logs
 * captured): a valid edit takes effect without a restart, an invalid one is
 * logged with line and field and the running policy stays, and the file is
 * followed through editors' rename-on-save and Kubernetes `..data` swaps.
 */
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type InProcessKeygate, startKeygate } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";
import { metric, policyWith, statuses, waitFor } from "./support.ts";

const secret = randomSecret();
let app: MockApp;
let kg: InProcessKeygate | undefined;

beforeAll(async () => {
  app = await startMockApp();
});
afterAll(async () => {
  await app.close();
});
afterEach(async () => {
  await kg?.stop();
  kg = undefined;
});

const start = async (policy: string, env: NodeJS.ProcessEnv = {}) => {
  kg = await startKeygate(policy, { KEYGATE_JWT_SECRET: secret, APP_URL: app.url, ...env });
  return kg;
};
const token = (sub: string) => mintToken({ sub, secret });
const logsWith = (k: InProcessKeygate, msg: string) => k.logLines().filter((l) => l["msg"] === msg);
/** Resolves with the `n`th `policy reloaded` line (1-based). */
const reloaded = (k: InProcessKeygate, n = 1) =>
  waitFor(() => logsWith(k, "policy reloaded")[n - 1], `policy reloaded line #${n}`);

describe("a valid edit is applied without a restart", () => {
  test("adding a limit: it is enforced at once, and the log line names it", async () => {
    const k = await start(policyWith(["{ name: wide, scope: app, per: user, rate: 100/1m }"]));
    const t = await token("reload-add");
    expect(await statuses(k.urls.ingress, t, 2)).toEqual([200, 200]);

    await writeFile(
      k.policyFile,
      policyWith([
        "{ name: wide, scope: app, per: user, rate: 100/1m }",
        "{ name: tight, scope: app, per: user, rate: 1/1m }",
      ]),
    );
    const line = await reloaded(k);
    expect(line).toMatchObject({ level: "info", added: ["tight"], removed: [], changed: [] });

    const res = await fetch(`${k.urls.ingress}/api/x`, { headers: { authorization: `Bearer ${t}` } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const denied = await fetch(`${k.urls.ingress}/api/x`, { headers: { authorization: `Bearer ${t}` } });
    expect(denied.status).toBe(429);
    expect(((await denied.json()) as Record<string, unknown>)["violated-policies"]).toEqual(["tight"]);
    expect(await metric(k.urls.admin, "keygate_policy_reloads_total", { result: "ok" })).toBe(1);
  });

  test("the policy reloaded line lists added, removed and changed limits; the policy info metric follows", async () => {
    const k = await start(
      policyWith([
        "{ name: keep, scope: app, per: user, rate: 10/1m }",
        "{ name: change-me, scope: app, per: user, rate: 10/1m }",
        "{ name: drop-me, scope: app, per: ip, rate: 10/1m }",
      ]),
    );
    await writeFile(
      k.policyFile,
      policyWith([
        "{ name: keep, scope: app, per: user, rate: 10/1m }",
        "{ name: change-me, scope: app, per: user, rate: 20/1m }",
        "{ name: add-me, scope: app, per: global, rate: 5/1m }",
      ]),
    );
    const line = await reloaded(k);
    expect(line).toMatchObject({ added: ["add-me"], removed: ["drop-me"], changed: ["change-me"] });
    const hash = line["hash"] as string;
    expect(hash).toMatch(/^\S+$/);
    expect(await metric(k.urls.admin, "keygate_policy_info", { hash, limits: "3" })).toBe(1);
  });

  test("a counter of an unchanged limit keeps its count: 3 of 5 used, reload, exactly 2 more pass", async () => {
    const k = await start(policyWith(["{ name: five, scope: app, per: user, rate: 5/1m }"]));
    const t = await token("reload-keeps-count");
    expect(await statuses(k.urls.ingress, t, 3)).toEqual([200, 200, 200]);

    await writeFile(
      k.policyFile,
      policyWith([
        "{ name: five, scope: app, per: user, rate: 5/1m }",
        "{ name: extra, scope: app, per: global, rate: 1000/1m }",
      ]),
    );
    expect(await reloaded(k)).toMatchObject({ added: ["extra"], changed: [] });
    expect(await statuses(k.urls.ingress, t, 3)).toEqual([200, 200, 429]);
  });
});

describe("an invalid edit is rejected and the running policy stays", () => {
  test("every error is logged with line and field, the metric counts it, the old limit is still enforced", async () => {
    const k = await start(policyWith(["{ name: two, scope: app, per: user, rate: 2/1m }"]));
    const file = k.policyFile;
    const before = await fetch(`${k.urls.admin}/metrics`).then((r) => r.text());
    const hash = /keygate_policy_info\{hash="([^"]+)"/.exec(before)?.[1];
    expect(hash).toBeDefined();

    await writeFile(
      file,
      policyWith([
        "{ name: two, scope: app, per: user, rate: lots/1m }",
        "{ name: other, scope: app, per: user, rate: 5/1m, colour: blue }",
      ]),
    );
    const rejected = await waitFor(
      () => logsWith(k, "policy reload rejected; the running policy stays in force")[0],
      "the reload rejection log line",
    );
    expect(rejected["level"]).toBe("error");
    // policyWith puts the first limit on line 6, the second on line 7.
    expect(rejected["errors"]).toEqual([
      expect.stringMatching(
        new RegExp(`^${escapeRegExp(file)}:6:\\d+: limits\\[0\\]\\.rate: "lots/1m" is not a rate`),
      ),
      expect.stringMatching(new RegExp(`^${escapeRegExp(file)}:7:\\d+: limits\\[1\\]\\.colour: unknown key`)),
    ]);
    expect(await metric(k.urls.admin, "keygate_policy_reloads_total", { result: "error" })).toBe(1);
    expect(await metric(k.urls.admin, "keygate_policy_info", { hash: hash! })).toBe(1);
    expect(logsWith(k, "policy reloaded")).toEqual([]);

    expect(await statuses(k.urls.ingress, await token("still-two"), 3)).toEqual([200, 200, 429]);
  });
});

describe("an edit that is valid YAML but cannot run is rejected the same way", () => {
  test("secret_env naming an unset variable: the error carries line and field; the old secret still works", async () => {
    const k = await start(policyWith(["{ name: auth-change, scope: app, per: user, rate: 2/1m }"]));
    const unset = `KEYGATE_TEST_UNSET_${Date.now()}`;
    await writeFile(
      k.policyFile,
      policyWith(["{ name: auth-change, scope: app, per: user, rate: 2/1m }"]).replace(
        "secret_env: KEYGATE_JWT_SECRET",
        `secret_env: ${unset}`,
      ),
    );
    const rejected = await waitFor(
      () => logsWith(k, "policy reload rejected; the running policy stays in force")[0],
      "the reload rejection log line",
    );
    expect(await metric(k.urls.admin, "keygate_policy_reloads_total", { result: "error" })).toBe(1);
    expect(await statuses(k.urls.ingress, await token("old-secret"), 3)).toEqual([200, 200, 429]);
    // policyWith puts `auth:` on line 2.
    expect(rejected["errors"]).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${escapeRegExp(k.policyFile)}:2:\\d+: auth\\.secret_env: environment variable ${unset} is not set`,
        ),
      ),
    ]);
  });
});

describe("the file is followed however it is replaced", () => {
  test("an editor's rename-on-save (write a temp file, rename it over the policy)", async () => {
    const k = await start(policyWith(["{ name: before, scope: app, per: user, rate: 100/1m }"]));
    const temp = join(dirname(k.policyFile), ".policies.yaml.swp");
    await writeFile(temp, policyWith(["{ name: after, scope: app, per: user, rate: 1/1m }"]));
    await rename(temp, k.policyFile);
    expect(await reloaded(k)).toMatchObject({ added: ["after"], removed: ["before"] });
    expect(await statuses(k.urls.ingress, await token("renamed"), 2)).toEqual([200, 429]);
  });

  test("a Kubernetes/ECS config mount: policies.yaml → ..data/policies.yaml, ..data swapped atomically", async () => {
    // A layout like a ConfigMap volume: the watched path is a symlink through `..data`.
    const mount = await mkdtemp(join(tmpdir(), "keygate-mount-"));
    try {
      await mkdir(join(mount, "..2026_01_01"));
      await writeFile(
        join(mount, "..2026_01_01", "policies.yaml"),
        policyWith(["{ name: v1, scope: app, per: user, rate: 100/1m }"]),
      );
      await symlink("..2026_01_01", join(mount, "..data"));
      await symlink("..data/policies.yaml", join(mount, "policies.yaml"));
      const k = await start("version: 1\n", { KEYGATE_POLICIES: join(mount, "policies.yaml") });

      await mkdir(join(mount, "..2026_01_02"));
      await writeFile(
        join(mount, "..2026_01_02", "policies.yaml"),
        policyWith(["{ name: v2, scope: app, per: user, rate: 1/1m }"]),
      );
      await symlink("..2026_01_02", join(mount, "..data_tmp"));
      await rename(join(mount, "..data_tmp"), join(mount, "..data"));
      await rm(join(mount, "..2026_01_01"), { recursive: true });

      expect(await reloaded(k)).toMatchObject({ added: ["v2"], removed: ["v1"] });
      expect(await statuses(k.urls.ingress, await token("k8s"), 2)).toEqual([200, 429]);
    } finally {
      await kg?.stop();
      kg = undefined;
      await rm(mount, { recursive: true, force: true });
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
