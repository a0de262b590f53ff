/**
 * The bench's upstream: plays both the app behind ingress and the LLM provider
 * behind egress. Kept as cheap as node:http allows so it is never the
 * bottleneck: payloads are prebuilt buffers, bodies are scanned, not parsed.
 *
 * - any GET → the 635-byte chat completion
 * - POST whose body contains `"stream":true` → SSE chunks; the first is written
 *   at once, the rest `x-mock-gap-ms` apart (0: back to back)
 * - any other POST → the 635-byte chat completion
 *
 * Run alone: `node bench/mock-upstream.ts` prints `{"msg":"listening","url":…}`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { chatAnswer, chatStream } from "./lib/payloads.ts";

const STREAM_MARKER = Buffer.from('"stream":true');

export interface MockUpstreamOptions {
  /** Content chunks per streamed answer (a usage chunk and `[DONE]` follow). */
  readonly streamChunks?: number;
}

/** Creates (does not start) the mock upstream server. */
export function createMockUpstream(options: MockUpstreamOptions = {}): Server {
  const answer = chatAnswer();
  const stream = chatStream(options.streamChunks ?? 8);
  const answerHeaders = { "content-type": "application/json", "content-length": String(answer.length) };
  // x-accel-buffering tells nginx not to buffer SSE, as real SSE apps do.
  const sseHeaders = {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  };

  const sendStream = (res: ServerResponse, gapMs: number) => {
    res.writeHead(200, sseHeaders);
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      const chunk = stream[i++]!;
      if (i === stream.length) return void res.end(chunk);
      res.write(chunk);
      if (gapMs > 0) setTimeout(next, gapMs);
      else setImmediate(next);
    };
    next();
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "GET" || req.method === "HEAD") {
      res.writeHead(200, answerHeaders);
      res.end(answer);
      return;
    }
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (body.includes(STREAM_MARKER)) {
        sendStream(res, Number(req.headers["x-mock-gap-ms"] ?? 0) || 0);
      } else {
        res.writeHead(200, answerHeaders);
        res.end(answer);
      }
    });
  });
  // Long keep-alive: the load generator reuses connections across a whole run.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  return server;
}

if (import.meta.main) {
  const server = createMockUpstream({ streamChunks: Number(process.env["MOCK_STREAM_CHUNKS"] ?? 8) });
  server.listen(Number(process.env["PORT"] ?? 0), "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${port}` })}\n`);
  });
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
