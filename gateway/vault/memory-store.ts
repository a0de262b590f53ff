import { putRecord, type VaultEntry, type VaultRecord, type VaultStore } from "./store.ts";

/** In-process `VaultStore` for unit tests; the reference behaviour of the interface. */
export function createMemoryStore(): VaultStore {
  const users = new Map<string, Map<string, VaultRecord>>();
  return {
    async get(user, provider) {
      return users.get(user)?.get(provider);
    },
    async put(user, provider, record) {
      return putRecord(users, user, provider, record);
    },
    async delete(user, provider) {
      const records = users.get(user);
      const removed = records?.delete(provider) ?? false;
      if (records?.size === 0) users.delete(user);
      return removed;
    },
    async list(user) {
      return new Map(users.get(user));
    },
    async *entries(): AsyncIterable<VaultEntry> {
      const snapshot = [...users].flatMap(([user, records]) =>
        [...records].map(([provider, record]) => ({ user, provider, record })),
      );
      yield* snapshot;
    },
    async compareAndSwap(user, provider, expectedCiphertext, record) {
      const records = users.get(user);
      if (records?.get(provider)?.ciphertext !== expectedCiphertext) return false;
      records.set(provider, record);
      return true;
    },
  };
}
