/**
 * Scrubbing of response headers and non-2xx bodies: the exact key sent
 * upstream, and anything shaped like a provider key (`gateway/secrets/patterns.ts`).
 *
 * Key shapes are only looked for where a key has no business being (headers,
 * error bodies). 2xx bodies get the exact-key scrubber alone: base64 payloads
 * such as embeddings can look like keys.
 */
import { PROVIDER_KEY_SOURCE, REDACTED } from "../secrets/patterns.ts";

/** Error bodies are buffered and shape-scrubbed up to this many bytes; the rest gets the exact key only. */
export const ERROR_BODY_SHAPE_LIMIT = 1024 * 1024;

// Compiled once at load; `replace` with a global regex resets lastIndex, so sharing it is safe.
const KEY_SHAPE = new RegExp(PROVIDER_KEY_SOURCE, "g");

/** Replaces every provider-key shape in `text` (latin1 or UTF-8 text alike) by `[REDACTED]`. */
export function redactKeyShapes(text: string): string {
  return text.replace(KEY_SHAPE, REDACTED);
}

function scrubText(text: string, secret: string): string {
  const exact = secret.length > 0 && text.includes(secret) ? text.replaceAll(secret, REDACTED) : text;
  return exact.replace(KEY_SHAPE, REDACTED);
}

/**
 * Replaces the exact key and every provider-key shape in each header value by
 * `[REDACTED]`; drops `undefined` values. Mutates and returns `headers`.
 *
 * @example scrubHeaders(upstreamHeaders, storedKey)
 */
export function scrubHeaders(
  headers: Record<string, string | string[] | undefined>,
  secret: string,
): Record<string, string | string[]> {
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) delete headers[name];
    else if (typeof value === "string") headers[name] = scrubText(value, secret);
    else headers[name] = value.map((v) => scrubText(v, secret));
  }
  return headers as Record<string, string | string[]>;
}

/**
 * Scrubs a buffered non-2xx body: the exact key everywhere, provider-key
 * shapes in its first `ERROR_BODY_SHAPE_LIMIT` bytes. Bytes are handled as
 * latin1 so that bodies which are not valid UTF-8 come back unchanged.
 *
 * @example res.end(scrubErrorBody(await upstreamBody.arrayBuffer().then(Buffer.from), storedKey))
 */
export function scrubErrorBody(body: Buffer, secret: string): Buffer {
  const secretLatin1 = Buffer.from(secret, "utf8").toString("latin1");
  const text = body.toString("latin1");
  // Exact key first, over the whole body, so a key straddling the limit cannot half-survive.
  const exact =
    secretLatin1.length > 0 && text.includes(secretLatin1) ? text.replaceAll(secretLatin1, REDACTED) : text;
  const scrubbed =
    exact.length <= ERROR_BODY_SHAPE_LIMIT
      ? exact.replace(KEY_SHAPE, REDACTED)
      : `${exact.slice(0, ERROR_BODY_SHAPE_LIMIT).replace(KEY_SHAPE, REDACTED)}${exact.slice(ERROR_BODY_SHAPE_LIMIT)}`;
  return scrubbed === text ? body : Buffer.from(scrubbed, "latin1");
}
