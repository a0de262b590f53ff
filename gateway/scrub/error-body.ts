/**
 * The streaming form of `scrubErrorBody`, for non-2xx answers of unknown size:
 * buffers up to `ERROR_BODY_SHAPE_LIMIT` bytes and scrubs them for the exact
 * key and provider-key shapes; past the limit, everything streams through the
 * exact-key scrubber only, so memory stays bounded.
 */
import { Transform } from "node:stream";
import { ERROR_BODY_SHAPE_LIMIT, redactKeyShapes, scrubErrorBody } from "./shapes.ts";
import { createKeyScrubber } from "./stream.ts";

function scrubShapes(bytes: Uint8Array): Buffer {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  return Buffer.from(redactKeyShapes(text), "latin1");
}

/**
 * @example await pipeline(upstreamBody, errorBodyScrubTransform(storedKey), res);
 * @throws Error when the secret is empty or over 256 bytes (as `createKeyScrubber`), or `limit` is not a positive integer.
 */
export function errorBodyScrubTransform(secret: string, limit: number = ERROR_BODY_SHAPE_LIMIT): Transform {
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new Error(`errorBodyScrubTransform: limit must be a positive integer, got ${limit}`);
  }
  const exact = createKeyScrubber(secret);
  let buffered: Buffer[] = [];
  let size = 0;
  let streaming = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (streaming) {
        const out = exact.push(chunk);
        return callback(null, out.length === 0 ? undefined : out);
      }
      buffered.push(chunk);
      size += chunk.length;
      if (size < limit) return callback();
      // Over the limit: the head gets shapes after the exact key; a key prefix at its end stays held in `exact`.
      streaming = true;
      const head = scrubShapes(exact.push(Buffer.concat(buffered)));
      buffered = [];
      callback(null, head.length === 0 ? undefined : head);
    },
    flush(callback) {
      const out = streaming ? exact.flush() : scrubErrorBody(Buffer.concat(buffered), secret);
      callback(null, out.length === 0 ? undefined : out);
    },
  });
}
