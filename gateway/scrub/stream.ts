/**
 * Streaming replacement of one exact secret (the provider key sent upstream)
 * by `[REDACTED]`, across arbitrary transport chunk boundaries.
 *
 * Cost on the common path (no occurrence, no partial prefix at the chunk's
 * end): one native `Buffer.indexOf` for the whole secret and one for its first
 * byte in the chunk's last `secret.length - 1` bytes; the chunk is passed on
 * without a copy. Only a tail that is a prefix of the secret is held back.
 */
import { REDACTED } from "../secrets/patterns.ts";

const REDACTED_BYTES = Buffer.from(REDACTED);
const EMPTY = Buffer.alloc(0);

/** The SPEC's bound: keys are at most 256 characters, so at most 255 bytes are ever held back. */
export const MAX_SECRET_BYTES = 256;

/** An incremental body rewrite: feed chunks in order, then `flush()` once at the end. */
export interface BodyFilter {
  /** Bytes ready to send (may be empty, may be a view of `chunk`). */
  push(chunk: Uint8Array): Uint8Array;
  /** Releases what was held back; resets for reuse. */
  flush(): Uint8Array;
}

/** Scrubs one exact secret; `flush()` releases a held-back tail that turned out not to be the secret. */
export type KeyScrubber = BodyFilter;

/**
 * @example const s = createKeyScrubber(key); res.write(s.push(chunk)); …; res.end(s.flush());
 * @throws Error when the secret is empty or longer than 256 bytes (UTF-8).
 */
export function createKeyScrubber(secret: string): KeyScrubber {
  const needle = Buffer.from(secret, "utf8");
  if (needle.length === 0) throw new Error("createKeyScrubber: the secret is empty");
  if (needle.length > MAX_SECRET_BYTES) {
    throw new Error(
      `createKeyScrubber: the secret is ${needle.length} bytes; at most ${MAX_SECRET_BYTES} are supported`,
    );
  }
  const first = needle[0]!;
  let held: Buffer = EMPTY;

  /** Start of the longest suffix of data[from..] that is a proper prefix of the secret, or data.length. */
  function holdStart(data: Buffer, from: number): number {
    let at = Math.max(from, data.length - needle.length + 1);
    for (;;) {
      at = data.indexOf(first, at);
      if (at === -1) return data.length;
      if (data.compare(needle, 0, data.length - at, at) === 0) return at;
      at++;
    }
  }

  return {
    push(chunk) {
      if (chunk.length === 0) return EMPTY;
      const input = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const data = held.length === 0 ? input : Buffer.concat([held, input]);
      let match = data.indexOf(needle);
      if (match === -1) {
        const cut = holdStart(data, 0);
        // Copy the held bytes: the caller may reuse `chunk`'s memory once we return.
        held = cut === data.length ? EMPTY : Buffer.from(data.subarray(cut));
        return cut === data.length ? data : data.subarray(0, cut);
      }
      const parts: Buffer[] = [];
      let pos = 0;
      while (match !== -1) {
        parts.push(data.subarray(pos, match), REDACTED_BYTES);
        pos = match + needle.length;
        match = data.indexOf(needle, pos);
      }
      const cut = holdStart(data, pos);
      parts.push(data.subarray(pos, cut));
      held = cut === data.length ? EMPTY : Buffer.from(data.subarray(cut));
      return Buffer.concat(parts);
    },
    flush() {
      const out = held;
      held = EMPTY;
      return out;
    },
  };
}

/** A filter applied to a whole body at once: what the stream would have sent, in one buffer. */
export function filterWhole(filter: BodyFilter, body: Uint8Array): Uint8Array {
  const head = filter.push(body);
  const tail = filter.flush();
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}
