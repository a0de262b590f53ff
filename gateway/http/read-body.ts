import type { IncomingMessage } from "node:http";
import { GatewayError } from "../errors.ts";

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(
    413,
    "payload-too-large",
    "Payload Too Large",
    `The request body is larger than ${maxBytes} bytes; send a smaller body.`,
  );
}

/**
 * Reads a request body into one Buffer, refusing (413) as soon as it would
 * exceed `maxBytes`: a declared `content-length` is checked before reading,
 * a chunked body while reading, so an oversized body is never held whole.
 */
export async function readBody(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(incoming.headers["content-length"]);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}
