import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../../gateway/errors.ts";
import { VaultError } from "../../gateway/vault/errors.ts";
import { createFileStore } from "../../gateway/vault/file-store.ts";
import { describeVaultStore, record } from "./store-conformance.ts";

describeVaultStore("file", async () => {
  const dirs: string[] = [];
  return {
    fresh: async () => {
      const dir = await mkdtemp(join(tmpdir(), "keygate-vault-"));
      dirs.push(dir);
      return createFileStore(join(dir, "data"));
    },
    close: async () => {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
});

function runChild(dataDir: string, label: string, count: number): Promise<number | null> {
  const script = join(import.meta.dirname, "fixtures", "put-many.ts");
  const child = spawn(process.execPath, [script, dataDir, label, String(count)], { stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
}

describe("file vault store specifics", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "keygate-vault-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("persists across store instances, in a 0600 file holding only what was stored", async () => {
    const r = record("persist");
    await createFileStore(dir).put("alice", "openai", r);
    expect(await createFileStore(dir).get("alice", "openai")).toEqual(r);
    const file = join(dir, "vault.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ version: 1, users: { alice: { openai: r } } });
    expect(await readdir(dir)).toEqual(["vault.json"]);
  });

  it("ignores a temp file left by a crash mid-write; the last complete file stays", async () => {
    const store = createFileStore(dir);
    const r = record("before-crash");
    await store.put("alice", "openai", r);
    await writeFile(join(dir, ".vault.json.99999.deadbeef.tmp"), '{"version":1,"users":{"alice":');
    const fresh = createFileStore(dir);
    expect(await fresh.get("alice", "openai")).toEqual(r);
    const next = record("after-crash");
    await fresh.put("bob", "openai", next);
    expect(await createFileStore(dir).list("bob")).toEqual(new Map([["openai", next]]));
  });

  it("sees another writer's update on the next read (re-read when the file changes)", async () => {
    const reader = createFileStore(dir);
    const writer = createFileStore(dir);
    await writer.put("alice", "openai", record("v1"));
    expect((await reader.get("alice", "openai"))?.ciphertext).toMatch(/^ct-v1-/);
    const v2 = record("v2");
    await writer.put("alice", "openai", v2);
    expect((await reader.get("alice", "openai"))?.ciphertext).toBe(v2.ciphertext);
  });

  it("reuses a settled file's parse, and still sees a later write", async () => {
    const reader = createFileStore(dir);
    const writer = createFileStore(dir);
    await writer.put("alice", "openai", record("v1"));
    const past = new Date(Date.now() - 60_000);
    await utimes(join(dir, "vault.json"), past, past);
    expect((await reader.get("alice", "openai"))?.ciphertext).toMatch(/^ct-v1-/);
    expect((await reader.get("alice", "openai"))?.ciphertext).toMatch(/^ct-v1-/);
    const v2 = record("v2");
    await writer.put("alice", "openai", v2);
    expect((await reader.get("alice", "openai"))?.ciphertext).toBe(v2.ciphertext);
  });

  it("fails closed on a damaged file and never overwrites it", async () => {
    const file = join(dir, "vault.json");
    await writeFile(file, "{ damaged");
    const store = createFileStore(dir);
    const error = await store.put("alice", "openai", record("x")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).code).toBe("malformed");
    expect((error as VaultError).message).toBe(`${file} is not valid JSON; restore it from a backup`);
    await expect(store.get("alice", "openai")).rejects.toThrow(`${file} is not valid JSON`);
    expect(await readFile(file, "utf8")).toBe("{ damaged");
  });

  it("takes over a lock left by a dead process", async () => {
    await writeFile(join(dir, "vault.json.lock"), `999999999 ${(await import("node:os")).hostname()} 1 x\n`);
    const r = record("after-dead-lock");
    await createFileStore(dir).put("alice", "openai", r);
    expect(await createFileStore(dir).get("alice", "openai")).toEqual(r);
    expect(await readdir(dir)).toEqual(["vault.json"]);
  });

  it("takes over a lock older than staleMs, and waits a bounded time for a live one", async () => {
    const lock = join(dir, "vault.json.lock");
    await writeFile(lock, `${process.pid} some-other-host 1 x\n`);
    const store = createFileStore(dir, { lock: { staleMs: 60_000, timeoutMs: 100 } });
    const error = await store.put("alice", "openai", record("blocked")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toBe(`vault file lock (${lock} held for over 100 ms) is unavailable`);
    expect(await store.get("alice", "openai")).toBeUndefined();
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    await store.put("alice", "openai", record("unblocked"));
    expect(await readdir(dir)).toEqual(["vault.json"]);
  });

  it("loses no update when two processes write the same file at once", async () => {
    const codes = await Promise.all([runChild(dir, "proc-a", 50), runChild(dir, "proc-b", 50)]);
    expect(codes).toEqual([0, 0]);
    const store = createFileStore(dir);
    for (const label of ["proc-a", "proc-b"]) {
      const records = await store.list(label);
      expect(records.size).toBe(50);
      for (let i = 0; i < 50; i++) expect(records.get(`provider-${i}`)?.ciphertext).toBe(`ct-${label}-${i}`);
    }
    expect(await readdir(dir)).toEqual(["vault.json"]);
  });
});
