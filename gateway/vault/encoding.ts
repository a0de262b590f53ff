/**
 * Strict base64 decoders. `Buffer.from(s, "base64")` silently skips invalid
 * characters and ignores non-zero padding bits, so two different strings can
 * decode to the same bytes; ciphertexts and master keys must have exactly one
 * spelling, so every decode is checked by re-encoding.
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Unpadded base64url → bytes, or undefined when `text` is not canonical base64url. */
export function decodeBase64Url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : undefined;
}

/** Bytes → unpadded base64url. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/**
 * Standard base64 (padded, as `openssl rand -base64 32` prints it) or
 * unpadded base64url → bytes, or undefined when `text` is neither, canonically.
 */
export function decodeBase64Either(text: string): Buffer | undefined {
  if (BASE64.test(text) && text.length % 4 === 0) {
    const bytes = Buffer.from(text, "base64");
    return bytes.toString("base64") === text ? bytes : undefined;
  }
  return decodeBase64Url(text);
}
