/**
 * The stack's ceiling: a Hono + @hono/node-server + undici Pool reverse proxy
 * of the same shape as keygate (method, path, query, headers and body
 * forwarded; hop-by-hop headers dropped; both directions streamed) and nothing
 * else — no auth, no quota, no vault, no scrubbing. keygate's figures are read
 * against this one.
 *
 * Run: `UPSTREAM=http://127.0.0.1:PORT node bench/bare-proxy.ts` prints
 * `{"msg":"listening","url":…}`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { Hono } from "hono";
import { Pool } from "undici";
import { forwardableHeaders } from "../gateway/proxy/headers.ts";

type Bindings = { incoming: IncomingMessage; outgoing: ServerResponse };

/**
 * Builds the proxy app forwarding everything to `upstream` (an origin URL).
 * Like keygate, the answer is piped straight into the Node response (no web
 * stream copy) and Hono is told the response was already sent. Plain `pipe`,
 * as keygate's relay: `stream.pipeline` allocates an AbortController and
 * end-of-stream listeners per answer, measured at −25 % req/s on this proxy.
 */
export function createBareProxy(upstream: string, connections = 256): Hono<{ Bindings: Bindings }> {
  const pool = new Pool(new URL(upstream).origin, { connections, keepAliveTimeout: 30_000 });
  const app = new Hono<{ Bindings: Bindings }>();

  app.all("*", async (c) => {
    const { incoming, outgoing } = c.env;
    // keygate's own header filter, so both proxies forward exactly the same headers.
    const headers = forwardableHeaders(incoming.headers);
    const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
    const answer = await pool.request({
      method: incoming.method as "GET",
      path: incoming.url ?? "/",
      headers,
      body: hasBody ? incoming : null,
    });
    outgoing.writeHead(answer.statusCode, forwardableHeaders(answer.headers));
    await new Promise<void>((resolve) => {
      answer.body.once("error", () => outgoing.destroy());
      outgoing.once("close", () => {
        if (!outgoing.writableFinished) answer.body.destroy();
        resolve();
      });
      answer.body.pipe(outgoing);
    });
    return RESPONSE_ALREADY_SENT;
  });
  return app;
}

if (import.meta.main) {
  const upstream = process.env["UPSTREAM"];
  if (!upstream) throw new Error("UPSTREAM (the origin to proxy to) is required");
  const app = createBareProxy(upstream);
  // Same server settings as keygate's listeners: the body belongs to the proxy, not to Hono's cleanup.
  const server = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 30_000 },
    getRequestListener(app.fetch, { autoCleanupIncoming: false }),
  );
  server.listen(Number(process.env["PORT"] ?? 0), "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${port}` })}\n`);
  });
}
