import { randomBytes } from "node:crypto";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { decodeBase64Url, encodeBase64Url } from "./encoding.ts";
import { VaultError } from "./errors.ts";
import { KEY_ID, type Keyring } from "./keyring.ts";

/**
 * Text format of a stored key: `kgv1.<keyId>.<nonce>.<ciphertext+tag>`, both
 * binary parts unpadded base64url. It names its own format version and master
 * key, so rotation knows what to rewrap and a reader fails with a precise code.
 */
const VERSION = "kgv1";
const VERSION_SHAPE = /^kgv[0-9]+$/;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
/** Domain separation: these bytes open the associated data of every v1 ciphertext. */
const AAD_DOMAIN = "keygate/vault/v1";

/** The parts of a structurally valid ciphertext. */
export interface ParsedCiphertext {
  readonly keyId: string;
  readonly nonce: Uint8Array;
  readonly sealed: Uint8Array;
}

/**
 * Encrypts and decrypts API keys under a keyring, bound to (user, provider):
 * a ciphertext copied to another user or provider fails with `auth-failed`.
 */
export interface VaultCipher {
  encrypt(user: string, provider: string, apiKey: string): string;
  /** Throws `VaultError` (`malformed`, `unknown-version`, `unknown-key`, `auth-failed`). */
  decrypt(user: string, provider: string, ciphertext: string): string;
}

/** @example const cipher = createCipher(parseMasterKeys(env.KEYGATE_MASTER_KEYS)) */
export function createCipher(keyring: Keyring): VaultCipher {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  return {
    encrypt(user, provider, apiKey) {
      const { id, key } = keyring.active;
      const nonce = randomBytes(NONCE_BYTES);
      const plain = Buffer.from(apiKey, "utf8");
      try {
        const sealed = xchacha20poly1305(key, nonce, associatedData(user, provider)).encrypt(plain);
        return `${VERSION}.${id}.${encodeBase64Url(nonce)}.${encodeBase64Url(sealed)}`;
      } finally {
        plain.fill(0);
      }
    },
    decrypt(user, provider, ciphertext) {
      const { keyId, nonce, sealed } = parseCiphertext(ciphertext);
      const key = keyring.get(keyId);
      if (key === undefined) {
        throw new VaultError("unknown-key", `encrypted under master key "${keyId}", which is not configured`);
      }
      let plain: Uint8Array;
      try {
        plain = xchacha20poly1305(key, nonce, associatedData(user, provider)).decrypt(sealed);
      } catch {
        throw new VaultError("auth-failed", `stored key for provider "${provider}" failed authentication`);
      }
      try {
        return decoder.decode(plain);
      } catch {
        throw new VaultError("malformed", `stored key for provider "${provider}" is not UTF-8`);
      } finally {
        plain.fill(0);
      }
    },
  };
}

/**
 * Checks a ciphertext's structure without any key: version, key id, exact
 * nonce length, minimum body length, canonical base64url. Throws `VaultError`.
 */
export function parseCiphertext(text: string): ParsedCiphertext {
  const parts = text.split(".");
  const [version, keyId, nonceText, sealedText] = parts;
  if (parts.length !== 4 || version === undefined || keyId === undefined) {
    throw new VaultError("malformed", "ciphertext must have 4 dot-separated parts");
  }
  if (version !== VERSION) {
    if (VERSION_SHAPE.test(version))
      throw new VaultError("unknown-version", `ciphertext format ${version} is not supported`);
    throw new VaultError("malformed", "ciphertext does not start with a format version");
  }
  if (!KEY_ID.test(keyId)) throw new VaultError("malformed", "ciphertext key id must match [a-z0-9-]{1,32}");
  const nonce = decodeBase64Url(nonceText ?? "");
  if (nonce === undefined || nonce.byteLength !== NONCE_BYTES) {
    throw new VaultError("malformed", `ciphertext nonce must be ${NONCE_BYTES} bytes of base64url`);
  }
  const sealed = decodeBase64Url(sealedText ?? "");
  if (sealed === undefined || sealed.byteLength < TAG_BYTES) {
    throw new VaultError("malformed", `ciphertext body must be at least ${TAG_BYTES} bytes of base64url`);
  }
  return { keyId, nonce, sealed };
}

/** The master key id a ciphertext names, or undefined when it is malformed. */
export function ciphertextKeyId(text: string): string | undefined {
  try {
    return parseCiphertext(text).keyId;
  } catch {
    return undefined;
  }
}

/** Length-prefixed (u32 BE) domain, user, provider: `a:b`+`c` and `a`+`b:c` never collide. */
function associatedData(user: string, provider: string): Uint8Array {
  const parts = [AAD_DOMAIN, user, provider].map((s) => Buffer.from(s, "utf8"));
  const out = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    at = out.writeUInt32BE(part.byteLength, at);
    at += part.copy(out, at);
  }
  return out;
}
