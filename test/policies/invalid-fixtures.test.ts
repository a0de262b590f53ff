import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPolicyFile } from "../../policies/load.ts";

const dir = join(import.meta.dirname, "fixtures", "invalid");
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("invalid policy fixtures", () => {
  it("covers every documented error class", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
  });

  for (const name of fixtures) {
    it(`${name} is rejected with exactly its expected messages`, async () => {
      const file = join(dir, name);
      const expected = readFileSync(file.replace(/\.yaml$/, ".expected"), "utf8")
        .trimEnd()
        .split("\n")
        .map((line) => line.replace(/^FILE:/, `${file}:`));
      const result = await loadPolicyFile(file, { KEYGATE_JWT_SECRET: "test-secret" });
      expect(result).toEqual({ ok: false, errors: expected });
    });
  }

  it("reports all errors of one file at once, in file order", async () => {
    const result = await loadPolicyFile(join(dir, "several-errors.yaml"), {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(9);
    const lines = result.errors.map((e) => Number(e.split(":")[1]));
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });

  it("reports an unreadable file as one error at 1:1", async () => {
    const file = join(dir, "does-not-exist.yaml");
    const result = await loadPolicyFile(file, {});
    expect(result).toEqual({
      ok: false,
      errors: [`${file}:1:1: (file): cannot read: ENOENT: no such file or directory`],
    });
  });
});
