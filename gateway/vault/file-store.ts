import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { StoreUnavailableError } from "../errors.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import { VaultError } from "./errors.ts";
import { createFileLock, type FileLockOptions } from "./file-lock.ts";
import { putRecord, toRecord, type VaultEntry, type VaultRecord, type VaultStore } from "./store.ts";

/**
 * `vault.json` holds `{"version":1,"users":{user:{provider:record}}}`:
 * ciphertexts and hints only. In memory it is Maps, so user ids and provider
 * names such as `__proto__` are plain data.
 */
type Users = Map<string, Map<string, VaultRecord>>;

export interface FileStoreOptions {
  lock?: FileLockOptions;
}

/**
 * Embedded-mode vault: `<dataDir>/vault.json`, shared safely by a running
 * server and the CLI. Every write is read-modify-write under an exclusive lock
 * file and replaces the file atomically; reads reuse the parsed file until a
 * cheap `stat` shows it changed (inode, size or mtime).
 *
 * @example const store = createFileStore(process.env.KEYGATE_DATA_DIR ?? ".keygate")
 */
export function createFileStore(dataDir: string, options: FileStoreOptions = {}): VaultStore {
  const path = join(dataDir, "vault.json");
  const withLock = createFileLock(`${path}.lock`, options.lock);
  let cached: { stamp: string; users: Users } | undefined;
  // mtime has coarse granularity and inodes get reused, so a file changed
  // twice within a tick can look unchanged: like git's "racily clean" check,
  // only trust the stamp of a file that was already this old when read.
  const RACY_MS = 2_000;
  let dirReady: Promise<unknown> | undefined;

  /** The file's records; `fresh` skips the cache (every read-modify-write). */
  async function load(fresh = false): Promise<Users> {
    let stamp: string;
    let settled: boolean;
    try {
      const s = await stat(path, { bigint: true });
      stamp = `${s.ino}:${s.size}:${s.mtimeNs}`;
      settled = Date.now() - Number(s.mtimeMs) > RACY_MS;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
      throw new StoreUnavailableError("vault file", { cause: error });
    }
    if (!fresh && cached?.stamp === stamp) return cached.users;
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new StoreUnavailableError("vault file", { cause: error });
    }
    const users = parseVaultFile(text, path);
    cached = settled ? { stamp, users } : undefined;
    return users;
  }

  /** Read-modify-write under the lock; `change` mutates a fresh copy and says whether to save. */
  async function update<T>(change: (users: Users) => { save: boolean; result: T }): Promise<T> {
    dirReady ??= mkdir(dataDir, { recursive: true, mode: 0o700 });
    try {
      await dirReady;
    } catch (error) {
      dirReady = undefined;
      throw new StoreUnavailableError("vault data dir", { cause: error });
    }
    return withLock(async () => {
      const users: Users = new Map(
        [...(await load(true))].map(([user, records]) => [user, new Map(records)]),
      );
      const { save, result } = change(users);
      if (save) {
        try {
          await writeFileAtomic(path, serialize(users));
        } catch (error) {
          throw new StoreUnavailableError("vault file", { cause: error });
        }
      }
      return result;
    });
  }

  return {
    async get(user, provider) {
      return (await load()).get(user)?.get(provider);
    },
    put: (user, provider, record) =>
      update((users) => ({ save: true, result: putRecord(users, user, provider, record) })),
    delete: (user, provider) =>
      update((users) => {
        const records = users.get(user);
        if (records?.delete(provider) !== true) return { save: false, result: false };
        if (records.size === 0) users.delete(user);
        return { save: true, result: true };
      }),
    async list(user) {
      return new Map((await load()).get(user));
    },
    async *entries(): AsyncIterable<VaultEntry> {
      for (const [user, records] of await load()) {
        for (const [provider, record] of records) yield { user, provider, record };
      }
    },
    compareAndSwap: (user, provider, expectedCiphertext, record) =>
      update((users) => {
        const records = users.get(user);
        if (records?.get(provider)?.ciphertext !== expectedCiphertext) return { save: false, result: false };
        records.set(provider, record);
        return { save: true, result: true };
      }),
  };
}

function serialize(users: Users): string {
  const body = Object.fromEntries([...users].map(([user, records]) => [user, Object.fromEntries(records)]));
  return `${JSON.stringify({ version: 1, users: body }, null, 2)}\n`;
}

/** Parses and validates the whole file; a damaged file fails closed and is never overwritten. */
function parseVaultFile(text: string, path: string): Users {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VaultError("malformed", `${path} is not valid JSON; restore it from a backup`);
  }
  const { version, users } = (value ?? {}) as { version?: unknown; users?: unknown };
  if (version !== 1 || typeof users !== "object" || users === null || Array.isArray(users)) {
    throw new VaultError("malformed", `${path} is not a keygate vault file (version 1)`);
  }
  const out: Users = new Map();
  for (const [user, records] of Object.entries(users)) {
    if (typeof records !== "object" || records === null) {
      throw new VaultError("malformed", `${path}: records of user "${user}" are not an object`);
    }
    const parsed = new Map<string, VaultRecord>();
    for (const [provider, record] of Object.entries(records)) {
      parsed.set(provider, toRecord(record, `${path}: user "${user}", provider "${provider}"`));
    }
    out.set(user, parsed);
  }
  return out;
}
