/**
 * Offline Terraform checks, when terraform and a local AWS provider mirror
 * are installed (no registry is reachable from CI): `fmt -check`, `validate`,
 * and `terraform test`, whose mocked-provider runs render the task definition
 * and the dashboard from the repository's templates and assert on them.
 * Without them the suite is skipped and says why.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEPLOY_DIR } from "./metric-names.ts";

const run = promisify(execFile);
const PLUGIN_DIR = process.env["KEYGATE_TF_PLUGIN_DIR"] ?? "/opt/tf-plugins";
const hasTerraform = (process.env["PATH"] ?? "")
  .split(delimiter)
  .some((dir) => dir !== "" && existsSync(join(dir, "terraform")));
const available = hasTerraform && existsSync(PLUGIN_DIR);

async function terraform(cwd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run("terraform", [...args, "-no-color"], {
    cwd,
    env: { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" },
    maxBuffer: 16 * 1024 * 1024,
  });
}

describe.skipIf(!available)(`Terraform module (needs terraform and ${PLUGIN_DIR})`, () => {
  let work = "";
  let module = "";

  beforeAll(async () => {
    // A copy, so init's .terraform/ and lock file never land in the work tree;
    // the module reads ../ecs and ../cloudwatch, so all of deploy/ comes along.
    work = await mkdtemp(join(tmpdir(), "keygate-tf-"));
    await cp(DEPLOY_DIR, join(work, "deploy"), {
      recursive: true,
      filter: (src) => !src.includes("/.terraform"),
    });
    module = join(work, "deploy", "terraform");
    await terraform(module, "init", "-backend=false", "-input=false", `-plugin-dir=${PLUGIN_DIR}`);
  }, 120_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("is formatted", async () => {
    const { stdout } = await terraform(
      join(DEPLOY_DIR, "terraform"),
      "fmt",
      "-check",
      "-recursive",
      "-list=true",
    );
    expect(stdout).toBe("");
  });

  it("validates", async () => {
    const { stdout } = await terraform(module, "validate", "-json");
    const result = JSON.parse(stdout) as { valid: boolean; error_count: number; warning_count: number };
    expect(result).toMatchObject({ valid: true, error_count: 0, warning_count: 0 });
  });

  it("passes its mocked-provider tests", async () => {
    const { stdout } = await terraform(module, "test");
    expect(stdout).toMatch(/Success! 4 passed, 0 failed\./);
  }, 180_000);
});
