/**
 * The vault's own error: a stable `code` callers can branch on, and a message
 * that names what is wrong (a user, a provider, a key id, a position) but never
 * key material.
 *
 * Codes:
 * - `malformed`: a ciphertext or stored record does not have the expected structure.
 * - `unknown-version`: a ciphertext from a format version this build does not read.
 * - `unknown-key`: encrypted under a master key id that is not in the keyring.
 * - `auth-failed`: the authentication tag does not verify (tampered, swapped
 *   between users or providers, or the wrong master key under a known id).
 * - `invalid-input`: a bad user id, provider name or API key was passed in.
 * - `invalid-master-keys`: `KEYGATE_MASTER_KEYS` (or a dev key file) is unusable.
 */
export type VaultErrorCode =
  | "malformed"
  | "unknown-version"
  | "unknown-key"
  | "auth-failed"
  | "invalid-input"
  | "invalid-master-keys";

export class VaultError extends Error {
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "VaultError";
    this.code = code;
  }
}
