import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type PolicyWatcher, watchPolicyFile } from "../../policies/watch.ts";

const OPTIONS = { debounceMs: 50, pollMs: 200 };
// Longer than a debounce plus a poll round: anything that was going to fire has fired.
const settle = () => new Promise((r) => setTimeout(r, 600));

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
}

describe("watchPolicyFile", () => {
  let dir: string;
  let watcher: PolicyWatcher | undefined;
  let fired = 0;
  const start = (file: string) => {
    watcher = watchPolicyFile(file, () => fired++, OPTIONS);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "keygate-watch-"));
    fired = 0;
  });
  afterEach(() => {
    watcher?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("fires once when the file is rewritten in place with new content", async () => {
    const file = join(dir, "policies.yaml");
    writeFileSync(file, "version: 1\n");
    start(file);
    writeFileSync(file, "version: 1\n# edited\n");
    await waitFor(() => fired === 1);
    await settle();
    expect(fired).toBe(1);
  });

  it("fires on an editor's rename-on-save", async () => {
    const file = join(dir, "policies.yaml");
    writeFileSync(file, "version: 1\n");
    start(file);
    writeFileSync(join(dir, ".policies.yaml.swp"), "version: 1\n# saved\n");
    renameSync(join(dir, ".policies.yaml.swp"), file);
    await waitFor(() => fired === 1);
  });

  it("fires when a Kubernetes-style ..data symlink is swapped", async () => {
    mkdirSync(join(dir, "..v1"));
    writeFileSync(join(dir, "..v1", "policies.yaml"), "version: 1\n");
    symlinkSync("..v1", join(dir, "..data"));
    symlinkSync(join("..data", "policies.yaml"), join(dir, "policies.yaml"));
    start(join(dir, "policies.yaml"));

    mkdirSync(join(dir, "..v2"));
    writeFileSync(join(dir, "..v2", "policies.yaml"), "version: 1\n# v2\n");
    symlinkSync("..v2", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    await waitFor(() => fired === 1);
  });

  it("does not fire when the same bytes are written again, in place or by rename", async () => {
    const file = join(dir, "policies.yaml");
    writeFileSync(file, "version: 1\n");
    start(file);
    writeFileSync(file, "version: 1\n");
    writeFileSync(join(dir, "tmp"), "version: 1\n");
    renameSync(join(dir, "tmp"), file);
    await settle();
    expect(fired).toBe(0);
    // The watcher is alive: a real change still fires.
    writeFileSync(file, "version: 1\n# changed\n");
    await waitFor(() => fired === 1);
  });

  it("stops firing after close()", async () => {
    const file = join(dir, "policies.yaml");
    writeFileSync(file, "version: 1\n");
    start(file);
    watcher?.close();
    writeFileSync(file, "version: 1\n# after close\n");
    await settle();
    expect(fired).toBe(0);
  });

  it("fires when a deleted file comes back with new content, not while it is missing", async () => {
    const file = join(dir, "policies.yaml");
    writeFileSync(file, "version: 1\n");
    start(file);
    rmSync(file);
    await settle();
    expect(fired).toBe(0);
    writeFileSync(file, "version: 1\n# restored\n");
    await waitFor(() => fired === 1);
  });

  it("notices in-place writes and symlink swaps by polling alone", async () => {
    mkdirSync(join(dir, "..v1"));
    writeFileSync(join(dir, "..v1", "policies.yaml"), "version: 1\n");
    symlinkSync("..v1", join(dir, "..data"));
    symlinkSync(join("..data", "policies.yaml"), join(dir, "policies.yaml"));
    watcher = watchPolicyFile(join(dir, "policies.yaml"), () => fired++, { ...OPTIONS, fsWatch: false });

    writeFileSync(join(dir, "..v1", "policies.yaml"), "version: 1\n# longer now\n");
    await waitFor(() => fired === 1);
    mkdirSync(join(dir, "..v2"));
    writeFileSync(join(dir, "..v2", "policies.yaml"), "version: 1\n# v2\n");
    symlinkSync("..v2", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    await waitFor(() => fired === 2);
  });

  it("refuses nonsensical options at construction", () => {
    expect(() => watchPolicyFile(join(dir, "x"), () => {}, { pollMs: 0 })).toThrow(
      "watchPolicyFile: debounceMs ≥ 0 and pollMs > 0 required",
    );
  });
});
