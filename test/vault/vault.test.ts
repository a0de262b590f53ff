import { describe, expect, it } from "vitest";
import { createMetrics } from "../../gateway/metrics.ts";
import { VaultError } from "../../gateway/vault/errors.ts";
import { keyHint } from "../../gateway/vault/hint.ts";
import { parseMasterKeys } from "../../gateway/vault/keyring.ts";
import { createMemoryStore } from "../../gateway/vault/memory-store.ts";
import { createVault } from "../../gateway/vault/vault.ts";
import { fakeApiKey, fakeMasterKey } from "./fake-keys.ts";

function clock(start: string) {
  let now = new Date(start);
  return { now: () => now, set: (at: string) => (now = new Date(at)) };
}

function setup(options: { ttlMs?: number } = {}) {
  const store = createMemoryStore();
  const keyring = parseMasterKeys(fakeMasterKey("k1"));
  const time = clock("2026-11-25T10:00:00.123Z");
  const metrics = createMetrics();
  const vault = createVault({
    store,
    keyring,
    metrics,
    now: time.now,
    cache: { ttlMs: options.ttlMs ?? 5_000 },
  });
  return { store, keyring, time, metrics, vault };
}

describe("keyHint", () => {
  it("shows first 3 and last 4 of a normal key, less of short keys, never more than 7", () => {
    expect(keyHint("sk-test-0123456789abcdef")).toBe("sk-…cdef");
    expect(keyHint("abcdefghijkl")).toBe("abc…ijkl");
    expect(keyHint("abcdefghijk")).toBe("…jk");
    expect(keyHint("abcdef")).toBe("…ef");
    expect(keyHint("abcde")).toBe("…");
    expect(keyHint("")).toBe("…");
  });
});

describe("vault service", () => {
  it("puts a key and shows only its hint and RFC 3339 UTC timestamps", async () => {
    const { vault, store } = setup();
    const apiKey = fakeApiKey();
    const info = await vault.put("alice", "openai", apiKey);
    expect(info).toEqual({
      provider: "openai",
      hint: `sk-…${apiKey.slice(-4)}`,
      created_at: "2026-11-25T10:00:00Z",
      updated_at: "2026-11-25T10:00:00Z",
    });
    const stored = await store.get("alice", "openai");
    expect(JSON.stringify(stored)).not.toContain(apiKey);
    expect(stored?.ciphertext).toMatch(/^kgv1\.k1\./);
    expect(await vault.reveal("alice", "openai")).toBe(apiKey);
    expect(await vault.info("alice", "openai")).toEqual(info);
  });

  it("keeps created_at on update and moves updated_at", async () => {
    const { vault, time } = setup();
    await vault.put("alice", "openai", fakeApiKey());
    time.set("2026-11-26T08:30:00Z");
    const second = fakeApiKey();
    const info = await vault.put("alice", "openai", second);
    expect(info.created_at).toBe("2026-11-25T10:00:00Z");
    expect(info.updated_at).toBe("2026-11-26T08:30:00Z");
    expect(await vault.reveal("alice", "openai")).toBe(second);
  });

  it("lists a user's keys sorted by provider, and only theirs", async () => {
    const { vault } = setup();
    for (const provider of ["openai", "anthropic", "google"])
      await vault.put("alice", provider, fakeApiKey());
    await vault.put("bob", "azure", fakeApiKey());
    expect((await vault.list("alice")).map((k) => k.provider)).toEqual(["anthropic", "google", "openai"]);
    expect(await vault.list("carol")).toEqual([]);
    expect(await vault.reveal("bob", "openai")).toBeUndefined();
  });

  it("removes a key: reveal then finds none, and a second remove says so", async () => {
    const { vault } = setup();
    await vault.put("alice", "openai", fakeApiKey());
    expect(await vault.reveal("alice", "openai")).toBeDefined();
    expect(await vault.remove("alice", "openai")).toBe(true);
    expect(await vault.reveal("alice", "openai")).toBeUndefined();
    expect(await vault.remove("alice", "openai")).toBe(false);
    expect(await vault.info("alice", "openai")).toBeUndefined();
  });

  it("serves reveal from the ciphertext cache within the TTL, and sees a local put at once", async () => {
    const { vault, store } = setup();
    const first = fakeApiKey();
    await vault.put("alice", "openai", first);
    expect(await vault.reveal("alice", "openai")).toBe(first);
    // Another instance removes the key: this one may use the cached ciphertext for at most the TTL.
    await store.delete("alice", "openai");
    expect(await vault.reveal("alice", "openai")).toBe(first);
    const second = fakeApiKey();
    await vault.put("alice", "openai", second);
    expect(await vault.reveal("alice", "openai")).toBe(second);
  });

  it("with the cache off, every reveal reads the store", async () => {
    const { vault, store } = setup({ ttlMs: 0 });
    await vault.put("alice", "openai", fakeApiKey());
    await vault.reveal("alice", "openai");
    await store.delete("alice", "openai");
    expect(await vault.reveal("alice", "openai")).toBeUndefined();
  });

  it("fails closed when a stored ciphertext belongs to someone else", async () => {
    const { vault, store } = setup();
    await vault.put("alice", "openai", fakeApiKey());
    const alices = await store.get("alice", "openai");
    await store.put("mallory", "openai", alices!);
    await expect(vault.reveal("mallory", "openai")).rejects.toMatchObject({ code: "auth-failed" });
  });

  it.each([
    ["an empty key", "alice", "openai", "", "API key is empty"],
    [
      "a key over 256 characters",
      "alice",
      "openai",
      `sk-${"a".repeat(254)}`,
      "API key is longer than 256 characters",
    ],
    [
      "a key with a newline",
      "alice",
      "openai",
      "sk-test-abc\ndef",
      "API key may only contain printable ASCII without spaces",
    ],
    [
      "an empty user",
      "",
      "openai",
      "sk-test-x",
      "user id must be 1-512 characters without control characters",
    ],
    [
      "an empty provider",
      "alice",
      "",
      "sk-test-x",
      "provider name must be non-empty, without control characters",
    ],
  ])("refuses %s and stores nothing", async (_label, user, provider, apiKey, message) => {
    const { vault, store } = setup();
    const error = await vault.put(user, provider, apiKey).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).code).toBe("invalid-input");
    expect((error as VaultError).message).toBe(message);
    const all = [];
    for await (const entry of store.entries()) all.push(entry);
    expect(all).toEqual([]);
  });

  it("counts operations in keygate_vault_operations_total", async () => {
    const { vault, metrics } = setup();
    await vault.put("alice", "openai", fakeApiKey());
    await vault.reveal("alice", "openai");
    await vault.reveal("alice", "google");
    await vault.put("alice", "openai", "").catch(() => undefined);
    const text = await metrics.registry.getSingleMetricAsString("keygate_vault_operations_total");
    expect(text).toContain('keygate_vault_operations_total{op="put",result="ok"} 1');
    expect(text).toContain('keygate_vault_operations_total{op="put",result="error"} 1');
    expect(text).toContain('keygate_vault_operations_total{op="decrypt",result="ok"} 1');
    expect(text).toContain('keygate_vault_operations_total{op="decrypt",result="missing"} 1');
  });
});
