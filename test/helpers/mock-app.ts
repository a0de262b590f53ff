/**
 * The application behind the ingress, for tests: records what it received
 * (method, url, headers, body) and answers per route:
 * - `/stream`: a chunked body, one chunk every `chunkDelayMs` (default 30 ms), `chunks` chunks (query, default 5);
 * - `/status/<code>`: that status;
 * - anything else: 200 JSON `{ "ok": true, "path": … }`.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface MockApp {
  readonly url: string;
  readonly received: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startMockApp(): Promise<MockApp> {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = req.url ?? "/";
      received.push({
        method: req.method ?? "",
        url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const path = url.split("?")[0] ?? "/";
      if (path === "/stream") {
        const count = Number(new URL(url, "http://x").searchParams.get("chunks") ?? 5);
        res.writeHead(200, { "content-type": "text/plain" });
        let sent = 0;
        const timer = setInterval(() => {
          res.write(`chunk-${sent}\n`);
          if (++sent === count) {
            clearInterval(timer);
            res.end();
          }
        }, 30);
        res.on("close", () => clearInterval(timer));
        return;
      }
      const status = /^\/status\/(\d{3})$/.exec(path);
      res.writeHead(status ? Number(status[1]) : 200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, path }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
