/**
 * The incremental form of `scrubErrorBody`, for non-2xx answers of unknown
 * size: buffers up to `ERROR_BODY_SHAPE_LIMIT` bytes and scrubs them for the
 * exact key and provider-key shapes; past the limit, everything streams
 * through the exact-key scrubber only, so memory stays bounded.
 */
import { ERROR_BODY_SHAPE_LIMIT, redactKeyShapes, scrubErrorBody } from "./shapes.ts";
import { type BodyFilter, createKeyScrubber } from "./stream.ts";

function scrubShapes(bytes: Uint8Array): Buffer {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  return Buffer.from(redactKeyShapes(text), "latin1");
}

const EMPTY = new Uint8Array(0);

/**
 * @example const f = createErrorBodyScrubber(storedKey); res.write(f.push(chunk)); …; res.end(f.flush());
 * @throws Error when the secret is empty or over 256 bytes (as `createKeyScrubber`), or `limit` is not a positive integer.
 */
export function createErrorBodyScrubber(secret: string, limit: number = ERROR_BODY_SHAPE_LIMIT): BodyFilter {
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new Error(`createErrorBodyScrubber: limit must be a positive integer, got ${limit}`);
  }
  const exact = createKeyScrubber(secret);
  let buffered: Uint8Array[] = [];
  let size = 0;
  let streaming = false;
  return {
    push(chunk) {
      if (streaming) return exact.push(chunk);
      buffered.push(Buffer.from(chunk));
      size += chunk.length;
      if (size < limit) return EMPTY;
      // Over the limit: the head gets shapes after the exact key; a key prefix at its end stays held in `exact`.
      streaming = true;
      const head = scrubShapes(exact.push(Buffer.concat(buffered)));
      buffered = [];
      return head;
    },
    flush() {
      const out = streaming ? exact.flush() : scrubErrorBody(Buffer.concat(buffered), secret);
      buffered = [];
      size = 0;
      streaming = false;
      return out;
    },
  };
}
