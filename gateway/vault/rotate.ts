import type { VaultCipher } from "./cipher.ts";
import { ciphertextKeyId } from "./cipher.ts";
import { VaultError, type VaultErrorCode } from "./errors.ts";
import type { VaultStore } from "./store.ts";

/** A record rotation could not rewrap, and why (`conflict`: it kept changing under us). */
export interface RotateFailure {
  user: string;
  provider: string;
  code: VaultErrorCode | "conflict";
}

export interface RotateResult {
  /** Records re-encrypted under the active key in this run. */
  rewrapped: number;
  /** Records seen. */
  total: number;
  /** Records left as they were; a re-run after fixing the keyring picks them up. */
  failed: RotateFailure[];
}

const CAS_ATTEMPTS = 3;

/**
 * Re-encrypts every record not under `activeKeyId`. Each rewrap is a
 * compare-and-swap on the old ciphertext, so a key a user replaces meanwhile
 * is never overwritten with the old one; the fresh record is re-read and
 * handled instead. Timestamps stay: a rewrap is not a key change.
 * Undecryptable records are reported and skipped; store outages abort (re-run).
 */
export async function rotateAll(deps: {
  store: VaultStore;
  cipher: VaultCipher;
  activeKeyId: string;
}): Promise<RotateResult> {
  const { store, cipher, activeKeyId } = deps;
  const result: RotateResult = { rewrapped: 0, total: 0, failed: [] };
  for await (const entry of store.entries()) {
    const { user, provider } = entry;
    result.total++;
    let current = entry.record;
    for (let attempt = 1; ; attempt++) {
      if (ciphertextKeyId(current.ciphertext) === activeKeyId) break;
      let rewrapped: string;
      try {
        rewrapped = cipher.encrypt(user, provider, cipher.decrypt(user, provider, current.ciphertext));
      } catch (error) {
        if (!(error instanceof VaultError)) throw error;
        result.failed.push({ user, provider, code: error.code });
        break;
      }
      if (
        await store.compareAndSwap(user, provider, current.ciphertext, { ...current, ciphertext: rewrapped })
      ) {
        result.rewrapped++;
        break;
      }
      const latest = await store.get(user, provider);
      if (latest === undefined) break;
      if (attempt === CAS_ATTEMPTS) {
        result.failed.push({ user, provider, code: "conflict" });
        break;
      }
      current = latest;
    }
  }
  return result;
}
