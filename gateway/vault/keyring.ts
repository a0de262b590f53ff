import { randomBytes } from "node:crypto";
import { decodeBase64Either } from "./encoding.ts";
import { VaultError } from "./errors.ts";

/** Master-key ids, as SPEC §2 fixes them. Also safe inside the ciphertext format (no `.`). */
export const KEY_ID = /^[a-z0-9-]{1,32}$/;
export const MASTER_KEY_BYTES = 32;

export interface MasterKey {
  readonly id: string;
  /** 32 bytes. */
  readonly key: Uint8Array;
}

/** Master keys: the first (`active`) encrypts, every one decrypts. */
export interface Keyring {
  readonly active: MasterKey;
  /** Every id, active first, in the order configured. */
  readonly ids: readonly string[];
  /** The key bytes for an id, or undefined when the id is not in the ring. */
  get(id: string): Uint8Array | undefined;
}

/** Builds a keyring from keys in priority order (active first). */
export function createKeyring(keys: readonly MasterKey[]): Keyring {
  const [active] = keys;
  if (active === undefined) throw new VaultError("invalid-master-keys", "no master key given");
  const byId = new Map<string, Uint8Array>();
  for (const [i, { id, key }] of keys.entries()) {
    if (!KEY_ID.test(id)) {
      throw new VaultError("invalid-master-keys", `master key #${i + 1}: id must match [a-z0-9-]{1,32}`);
    }
    if (key.byteLength !== MASTER_KEY_BYTES) {
      throw new VaultError("invalid-master-keys", `master key "${id}": must be ${MASTER_KEY_BYTES} bytes`);
    }
    if (byId.has(id)) throw new VaultError("invalid-master-keys", `master key "${id}": id given twice`);
    byId.set(id, key);
  }
  const ids = [...byId.keys()];
  return { active, ids, get: (id) => byId.get(id) };
}

/**
 * Parses `KEYGATE_MASTER_KEYS`: comma-separated `ID:BASE64`, first one active.
 * Errors name the id (or the position when the id itself is bad), never the key.
 *
 * @example parseMasterKeys(process.env.KEYGATE_MASTER_KEYS ?? "")
 */
export function parseMasterKeys(text: string): Keyring {
  const entries = text.split(",").map((s) => s.trim());
  if (entries.length === 1 && entries[0] === "") {
    throw new VaultError(
      "invalid-master-keys",
      "KEYGATE_MASTER_KEYS is empty; expected ID:BASE64[,ID:BASE64…]",
    );
  }
  const keys = entries.map((entry, i): MasterKey => {
    const where = `KEYGATE_MASTER_KEYS entry #${i + 1}`;
    const colon = entry.indexOf(":");
    if (colon < 0) throw new VaultError("invalid-master-keys", `${where}: expected ID:BASE64`);
    const id = entry.slice(0, colon);
    if (!KEY_ID.test(id))
      throw new VaultError("invalid-master-keys", `${where}: id must match [a-z0-9-]{1,32}`);
    const key = decodeBase64Either(entry.slice(colon + 1));
    if (key === undefined)
      throw new VaultError("invalid-master-keys", `master key "${id}": not valid base64`);
    if (key.byteLength !== MASTER_KEY_BYTES) {
      key.fill(0);
      throw new VaultError(
        "invalid-master-keys",
        `master key "${id}": must decode to ${MASTER_KEY_BYTES} bytes (use \`keygate keygen\`)`,
      );
    }
    // Copy out of Buffer's shared pool, then wipe the pooled bytes.
    const copy = new Uint8Array(key);
    key.fill(0);
    return { id, key: copy };
  });
  return createKeyring(keys);
}

/**
 * A new master key as `ID:BASE64` (32 random bytes, standard base64). The
 * default id is the UTC date plus a random suffix (`k20261125-3f9a`), so two
 * keys made on one day still differ and ids sort by age.
 *
 * @example process.stdout.write(`${generateMasterKey()}\n`)
 */
export function generateMasterKey(id?: string, now: Date = new Date()): string {
  const keyId =
    id ?? `k${now.toISOString().slice(0, 10).replaceAll("-", "")}-${randomBytes(2).toString("hex")}`;
  if (!KEY_ID.test(keyId)) throw new VaultError("invalid-master-keys", "key id must match [a-z0-9-]{1,32}");
  return `${keyId}:${randomBytes(MASTER_KEY_BYTES).toString("base64")}`;
}
