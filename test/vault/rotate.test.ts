import { describe, expect, it } from "vitest";
import { parseCiphertext } from "../../gateway/vault/cipher.ts";
import { parseMasterKeys } from "../../gateway/vault/keyring.ts";
import { createMemoryStore } from "../../gateway/vault/memory-store.ts";
import type { VaultStore } from "../../gateway/vault/store.ts";
import { createVault } from "../../gateway/vault/vault.ts";
import { fakeApiKey, fakeMasterKey } from "./fake-keys.ts";

async function keyIds(store: VaultStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const { record } of store.entries()) ids.push(parseCiphertext(record.ciphertext).keyId);
  return ids;
}

describe("vault rotation", () => {
  const oldKey = fakeMasterKey("old");
  const newKey = fakeMasterKey("new");

  async function seeded() {
    const store = createMemoryStore();
    const before = createVault({ store, keyring: parseMasterKeys(oldKey) });
    const plain = new Map<string, string>();
    for (const user of ["alice", "bob", "a:b"]) {
      for (const provider of ["openai", "anthropic"]) {
        const apiKey = fakeApiKey();
        plain.set(`${user}|${provider}`, apiKey);
        await before.put(user, provider, apiKey);
      }
    }
    return { store, plain };
  }

  it("rewraps everything under the new key, is idempotent, and the old key can then go", async () => {
    const { store, plain } = await seeded();
    const infoBefore = await createVault({ store, keyring: parseMasterKeys(oldKey) }).list("alice");
    const during = createVault({ store, keyring: parseMasterKeys(`${newKey},${oldKey}`) });
    expect(await during.rotate()).toEqual({ rewrapped: 6, total: 6, failed: [] });
    expect(await keyIds(store)).toEqual(Array(6).fill("new"));
    expect(await during.rotate()).toEqual({ rewrapped: 0, total: 6, failed: [] });
    expect(await during.list("alice")).toEqual(infoBefore);

    const after = createVault({ store, keyring: parseMasterKeys(newKey) });
    for (const [id, apiKey] of plain) {
      const [user, provider] = id.split("|") as [string, string];
      expect(await after.reveal(user, provider)).toBe(apiKey);
    }
  });

  it("reports records it cannot decrypt and leaves them untouched", async () => {
    const { store } = await seeded();
    const stranger = createVault({ store, keyring: parseMasterKeys(fakeMasterKey("lost")) });
    await stranger.put("carol", "openai", fakeApiKey());
    const carol = await store.get("carol", "openai");
    const result = await createVault({ store, keyring: parseMasterKeys(`${newKey},${oldKey}`) }).rotate();
    expect(result).toEqual({
      rewrapped: 6,
      total: 7,
      failed: [{ user: "carol", provider: "openai", code: "unknown-key" }],
    });
    expect(await store.get("carol", "openai")).toEqual(carol);
  });

  it("gives up on a record that keeps changing, reporting a conflict, without overwriting it", async () => {
    const { store } = await seeded();
    const oldVault = createVault({ store, keyring: parseMasterKeys(oldKey) });
    let latest = "";
    const busy: VaultStore = {
      ...store,
      async compareAndSwap(user, provider, expected, record) {
        if (user === "bob" && provider === "anthropic") {
          latest = fakeApiKey();
          await oldVault.put("bob", "anthropic", latest);
        }
        return store.compareAndSwap(user, provider, expected, record);
      },
    };
    const result = await createVault({
      store: busy,
      keyring: parseMasterKeys(`${newKey},${oldKey}`),
    }).rotate();
    expect(result).toEqual({
      rewrapped: 5,
      total: 6,
      failed: [{ user: "bob", provider: "anthropic", code: "conflict" }],
    });
    expect(await oldVault.reveal("bob", "anthropic")).toBe(latest);
  });

  it("never overwrites a key the user replaced between read and rewrap", async () => {
    const { store } = await seeded();
    const during = createVault({ store, keyring: parseMasterKeys(`${newKey},${oldKey}`) });
    const oldVault = createVault({ store, keyring: parseMasterKeys(oldKey) });
    const replacement = fakeApiKey();
    // The user's update lands after rotation read alice/openai but before its compare-and-swap.
    let raced = false;
    const racing: VaultStore = {
      ...store,
      async compareAndSwap(user, provider, expected, record) {
        if (user === "alice" && provider === "openai" && !raced) {
          raced = true;
          await oldVault.put("alice", "openai", replacement);
        }
        return store.compareAndSwap(user, provider, expected, record);
      },
    };
    const result = await createVault({
      store: racing,
      keyring: parseMasterKeys(`${newKey},${oldKey}`),
    }).rotate();
    expect(raced).toBe(true);
    expect(result).toEqual({ rewrapped: 6, total: 6, failed: [] });
    expect(await during.reveal("alice", "openai")).toBe(replacement);
    expect(await keyIds(store)).toEqual(Array(6).fill("new"));
  });
});
