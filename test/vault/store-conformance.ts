/**
 * One behaviour for every VaultStore: each implementation's test file calls
 * `describeVaultStore` with a factory for a fresh, empty store.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { VaultEntry, VaultRecord, VaultStore } from "../../gateway/vault/store.ts";

export interface StoreHarness {
  /** A store over empty storage. */
  fresh(): Promise<VaultStore>;
  close(): Promise<void>;
}

let serial = 0;
/** A record with recognisable, non-secret contents. */
export function record(label: string, at = "2026-11-25T10:00:00Z"): VaultRecord {
  serial++;
  return {
    ciphertext: `ct-${label}-${serial}`,
    hint: `sk-…${label.slice(-4)}`,
    created_at: at,
    updated_at: at,
  };
}

async function collect(entries: AsyncIterable<VaultEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const { user, provider, record } of entries)
    out.push(`${user}|${provider}|${record.ciphertext}`);
  return out.sort();
}

export function describeVaultStore(name: string, harness: () => Promise<StoreHarness>): void {
  describe(`VaultStore conformance: ${name}`, () => {
    let h: StoreHarness;
    let store: VaultStore;
    beforeEach(async () => {
      h ??= await harness();
      store = await h.fresh();
    });
    afterAll(async () => {
      await h?.close();
    });

    it("answers empty for unknown users and providers", async () => {
      expect(await store.get("nobody", "openai")).toBeUndefined();
      expect(await store.list("nobody")).toEqual(new Map());
      expect(await store.delete("nobody", "openai")).toBe(false);
      expect(await collect(store.entries())).toEqual([]);
    });

    it("stores, reads back and lists one user's records only", async () => {
      const a = record("aaaa");
      const b = record("bbbb");
      const c = record("cccc");
      expect(await store.put("alice", "openai", a)).toEqual(a);
      await store.put("alice", "anthropic", b);
      await store.put("bob", "openai", c);
      expect(await store.get("alice", "openai")).toEqual(a);
      expect(await store.list("alice")).toEqual(
        new Map([
          ["openai", a],
          ["anthropic", b],
        ]),
      );
      expect(await store.list("bob")).toEqual(new Map([["openai", c]]));
    });

    it("keeps created_at when a key is replaced, and takes everything else", async () => {
      await store.put("alice", "openai", record("old1", "2026-01-01T00:00:00Z"));
      const replacement = record("new1", "2026-11-25T12:00:00Z");
      const stored = await store.put("alice", "openai", replacement);
      const expected = { ...replacement, created_at: "2026-01-01T00:00:00Z" };
      expect(stored).toEqual(expected);
      expect(await store.get("alice", "openai")).toEqual(expected);
    });

    it("deletes one record; a second delete reports nothing removed", async () => {
      await store.put("alice", "openai", record("dddd"));
      const kept = record("keep");
      await store.put("alice", "google", kept);
      expect(await store.delete("alice", "openai")).toBe(true);
      expect(await store.delete("alice", "openai")).toBe(false);
      expect(await store.get("alice", "openai")).toBeUndefined();
      expect(await store.list("alice")).toEqual(new Map([["google", kept]]));
      expect(await store.delete("alice", "google")).toBe(true);
      expect(await collect(store.entries())).toEqual([]);
    });

    it("keeps ids with separators, braces, unicode and __proto__ apart", async () => {
      const pairs: [string, string][] = [
        ["a:b", "c"],
        ["a", "b:c"],
        ["u{x}", "openai"],
        ["u}x{", "openai"],
        ["ユーザー/é", "openai"],
        ["__proto__", "__proto__"],
        ["constructor", "toString"],
        ["50%", "p"],
      ];
      const written = new Map<string, VaultRecord>();
      for (const [user, provider] of pairs) {
        const r = record(`${user}${provider}`);
        written.set(`${user}|${provider}`, r);
        await store.put(user, provider, r);
      }
      for (const [user, provider] of pairs) {
        expect(await store.get(user, provider)).toEqual(written.get(`${user}|${provider}`));
      }
      expect(await store.get("a", "c")).toBeUndefined();
      expect(await store.list("__proto__")).toEqual(
        new Map([["__proto__", written.get("__proto__|__proto__")]]),
      );
      expect(Object.keys(Object.prototype)).toEqual([]);
      expect(await collect(store.entries())).toEqual(
        [...written].map(([k, r]) => `${k}|${r.ciphertext}`).sort(),
      );
    });

    it("enumerates every record of every user", async () => {
      const expected: string[] = [];
      for (let u = 0; u < 60; u++) {
        for (const provider of ["openai", "anthropic"]) {
          const r = record(`${u}${provider}`);
          await store.put(`user-${u}`, provider, r);
          expected.push(`user-${u}|${provider}|${r.ciphertext}`);
        }
      }
      expect(await collect(store.entries())).toEqual(expected.sort());
    });

    it("compare-and-swap replaces only the expected ciphertext", async () => {
      const first = record("cas1");
      await store.put("alice", "openai", first);
      const rewrap = { ...first, ciphertext: "ct-rewrapped" };
      expect(await store.compareAndSwap("alice", "openai", "ct-someone-else", rewrap)).toBe(false);
      expect(await store.get("alice", "openai")).toEqual(first);
      expect(await store.compareAndSwap("alice", "openai", first.ciphertext, rewrap)).toBe(true);
      expect(await store.get("alice", "openai")).toEqual(rewrap);
      expect(await store.compareAndSwap("alice", "anthropic", first.ciphertext, rewrap)).toBe(false);
      expect(await store.get("alice", "anthropic")).toBeUndefined();
    });
  });
}
