/**
 * One path segment in RFC 3986 normal form: unreserved characters decoded,
 * every other escape kept with upper-case hex, characters outside `pchar`
 * percent-encoded as UTF-8. Escapes that would change the path's structure
 * (`%2F`, `%5C`) or carry control characters are refused, not decoded.
 */
import { GatewayError } from "../errors.ts";

function bad(detail: string): never {
  throw new GatewayError(400, "bad-request", "Bad request", detail);
}

// 1 = may appear raw in a segment (RFC 3986 pchar minus "%"), 2 = unreserved.
const CLASS = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
  CLASS[c.charCodeAt(0)] = 2;
for (const c of "!$&'()*+,;=:@") CLASS[c.charCodeAt(0)] = 1;

const HEX = "0123456789ABCDEF";

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Normalises one raw segment (no `/` inside). @throws GatewayError 400 `bad-request`. */
export function normaliseSegment(raw: string): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) bad("The path contains a malformed percent-escape.");
      const byte = hi * 16 + lo;
      if (byte === 0x2f || byte === 0x5c)
        bad("Encoded slashes and backslashes (%2F, %5C) are not allowed in paths.");
      if (byte < 0x20 || byte === 0x7f) bad("The path contains an encoded control character.");
      out += CLASS[byte] === 2 ? String.fromCharCode(byte) : `%${HEX[hi]}${HEX[lo]}`;
      i += 2;
    } else if (c < 0x20 || c === 0x7f) {
      bad("The path contains a control character.");
    } else if (c === 0x5c) {
      bad("Backslashes are not allowed in paths.");
    } else if (c < 0x80 && CLASS[c] !== 0) {
      out += raw[i];
    } else {
      out += encodeCodePoint(raw, i);
      if (c >= 0xd800 && c <= 0xdbff) i++; // the pair's low half was encoded too
    }
  }
  return out;
}

function encodeCodePoint(raw: string, i: number): string {
  const cp = raw.codePointAt(i) ?? 0;
  try {
    return encodeURIComponent(String.fromCodePoint(cp));
  } catch {
    return bad("The path contains an unpaired surrogate.");
  }
}
