import { VaultError } from "./errors.ts";

/** What is stored per (user, provider). Only the ciphertext is secret-derived. */
export interface VaultRecord {
  readonly ciphertext: string;
  /** `sk-…wxyz`: see `keyHint`. */
  readonly hint: string;
  /** RFC 3339 UTC. */
  readonly created_at: string;
  /** RFC 3339 UTC. */
  readonly updated_at: string;
}

/** One record with its owner, as enumerated for rotation. */
export interface VaultEntry {
  readonly user: string;
  readonly provider: string;
  readonly record: VaultRecord;
}

/**
 * Where ciphertext records live: Redis (shared), a file (embedded mode) or
 * memory (tests). Every implementation passes `test/vault/store-conformance.ts`.
 * I/O failures surface as `StoreUnavailableError`; unreadable data as `VaultError`.
 */
export interface VaultStore {
  get(user: string, provider: string): Promise<VaultRecord | undefined>;
  /**
   * Stores `record`, but keeps the `created_at` of a record already stored
   * for (user, provider), atomically. Returns what was stored.
   */
  put(user: string, provider: string, record: VaultRecord): Promise<VaultRecord>;
  /** True when a record was removed. */
  delete(user: string, provider: string): Promise<boolean>;
  /** The user's records by provider, in no particular order. */
  list(user: string): Promise<Map<string, VaultRecord>>;
  /** Every record of every user (rotation). Records written during the walk may or may not appear. */
  entries(): AsyncIterable<VaultEntry>;
  /**
   * Replaces the record only if its current ciphertext is `expectedCiphertext`,
   * so a rewrap never overwrites a concurrent update. False when it changed or is gone.
   */
  compareAndSwap(
    user: string,
    provider: string,
    expectedCiphertext: string,
    record: VaultRecord,
  ): Promise<boolean>;
  /** Shared stores: how many records exist, and whether this store has ever held one (data-loss detection). */
  stats?(): Promise<VaultStats>;
}

export interface VaultStats {
  readonly records: number;
  readonly heldRecords: boolean;
}

/**
 * The in-memory put shared by the memory and file stores: stores `record`
 * for (user, provider), keeping the `created_at` of a record already there.
 */
export function putRecord(
  users: Map<string, Map<string, VaultRecord>>,
  user: string,
  provider: string,
  record: VaultRecord,
): VaultRecord {
  let records = users.get(user);
  if (records === undefined) {
    records = new Map();
    users.set(user, records);
  }
  const previous = records.get(provider);
  const stored = previous === undefined ? record : { ...record, created_at: previous.created_at };
  records.set(provider, stored);
  return stored;
}

/** Validates a record read back from storage (JSON). Throws `VaultError("malformed")`. */
export function toRecord(value: unknown, where: string): VaultRecord {
  if (typeof value === "object" && value !== null) {
    const { ciphertext, hint, created_at, updated_at } = value as Record<string, unknown>;
    if (
      typeof ciphertext === "string" &&
      typeof hint === "string" &&
      typeof created_at === "string" &&
      typeof updated_at === "string"
    ) {
      return { ciphertext, hint, created_at, updated_at };
    }
  }
  throw new VaultError(
    "malformed",
    `${where}: stored record is not {ciphertext, hint, created_at, updated_at}`,
  );
}

/** Parses one JSON-encoded record. Throws `VaultError("malformed")`. */
export function parseRecord(json: string, where: string): VaultRecord {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new VaultError("malformed", `${where}: stored record is not JSON`);
  }
  return toRecord(value, where);
}
