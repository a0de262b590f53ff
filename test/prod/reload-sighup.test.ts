/**
 * SIGHUP reloads the policy in a real keygate process (and does not kill it,
 * which is Node's default for SIGHUP). To prove the signal did the work, the
 * edit is made where the file watcher cannot see it: the policy path is a
 * symlink into another directory (the watcher watches the link's directory),
 * and the target is rewritten in place with the same size and the same mtime
 * (the fallback poll compares path, inode, size and mtime).
 */
import { mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type KeygateProcess, spawnKeygate, testMasterKey } from "../helpers/keygate.ts";
import { type MockApp, startMockApp } from "../helpers/mock-app.ts";
import { metric, parseLogLines, policyWith, statuses, waitFor } from "./support.ts";

const secret = randomSecret();
const FIXED_MTIME_S = 1_700_000_000;
let app: MockApp;
let kg: KeygateProcess | undefined;
let dirs: string[] = [];

beforeAll(async () => {
  app = await startMockApp();
});
afterAll(async () => {
  await app.close();
});
afterEach(async () => {
  if (kg) expect(await kg.stop()).toBe(0);
  kg = undefined;
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

/** `<link dir>/policies.yaml` → `<other dir>/real.yaml`; returns both paths. */
async function hiddenPolicy(text: string): Promise<{ dir: string; file: string; target: string }> {
  const dir = await mkdtemp(join(tmpdir(), "keygate-hup-"));
  const elsewhere = await mkdtemp(join(tmpdir(), "keygate-hup-target-"));
  dirs.push(dir, elsewhere);
  const target = join(elsewhere, "real.yaml");
  await writeInvisibly(target, text);
  const file = join(dir, "policies.yaml");
  await symlink(target, file);
  return { dir, file, target };
}

/** Rewrites `target` in place (same inode) and pins its mtime, so only a reload on demand notices. */
async function writeInvisibly(target: string, text: string): Promise<void> {
  await writeFile(target, text);
  await utimes(target, FIXED_MTIME_S, FIXED_MTIME_S);
}

const logs = (k: KeygateProcess, msg: string) => parseLogLines(k.stdout()).filter((l) => l["msg"] === msg);
const REJECTED = "policy reload rejected; the running policy stays in force";

/** Waits longer than the watcher's poll (1 s) + debounce, then checks nothing reloaded on its own. */
async function assertWatcherBlind(k: KeygateProcess): Promise<void> {
  await new Promise((r) => setTimeout(r, 1_500));
  expect(logs(k, "policy reloaded")).toEqual([]);
  expect(logs(k, REJECTED)).toEqual([]);
}

const env = () => ({ KEYGATE_JWT_SECRET: secret, APP_URL: app.url, KEYGATE_MASTER_KEYS: testMasterKey() });

test("SIGHUP applies an edited policy; the process keeps serving", async () => {
  const policy = await hiddenPolicy(policyWith(["{ name: hup, scope: app, per: user, rate: 9/1m }"]));
  kg = await spawnKeygate(policy, env());
  // Same byte length as before: the size does not give the edit away.
  await writeInvisibly(policy.target, policyWith(["{ name: hup, scope: app, per: user, rate: 1/1m }"]));
  await assertWatcherBlind(kg);

  kg.child.kill("SIGHUP");
  const line = await waitFor(() => logs(kg!, "policy reloaded")[0], "policy reloaded after SIGHUP");
  expect(line).toMatchObject({ added: [], removed: [], changed: ["hup"] });
  expect(kg.child.exitCode).toBeNull();
  expect(await statuses(kg.urls.ingress, await mintToken({ sub: "after-hup", secret }), 2)).toEqual([
    200, 429,
  ]);
  expect(await metric(kg.urls.admin, "keygate_policy_reloads_total", { result: "ok" })).toBe(1);
});

test("SIGHUP with an invalid file: each signal logs the errors and counts one error; the old policy stays", async () => {
  const policy = await hiddenPolicy(policyWith(["{ name: hup-bad, scope: app, per: user, rate: 2/1m }"]));
  kg = await spawnKeygate(policy, env());
  await writeInvisibly(policy.target, policyWith(["{ name: hup-bad, scope: app, per: user, rate: 2/1x }"]));
  await assertWatcherBlind(kg);

  for (const n of [1, 2]) {
    kg.child.kill("SIGHUP");
    const line = await waitFor(() => logs(kg!, REJECTED)[n - 1], `rejection #${n} after SIGHUP`);
    expect(line["errors"]).toEqual([expect.stringMatching(/policies\.yaml:6:\d+: limits\[0\]\.rate: /)]);
    expect(await metric(kg.urls.admin, "keygate_policy_reloads_total", { result: "error" })).toBe(n);
  }
  expect(kg.child.exitCode).toBeNull();
  expect(await statuses(kg.urls.ingress, await mintToken({ sub: "hup-old", secret }), 3)).toEqual([
    200, 200, 429,
  ]);
});
