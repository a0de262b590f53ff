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
export function readBody(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(incoming.headers["content-length"]);
  if (declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  if (incoming.readableEnded) return Promise.resolve(Buffer.alloc(0));
  // Events rather than `for await`: an async iterator per request is measurable on the hot path.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      cleanup();
      incoming.resume(); // discard the rest; the 413 is answered on this connection
      reject(tooLarge(maxBytes));
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
    };
    incoming.on("data", onData);
    incoming.once("end", onEnd);
    incoming.once("error", onError);
  });
}
