import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { ListenAddress } from "./config/env.ts";

type FetchHandler = Parameters<typeof getRequestListener>[0];

export interface Listener {
  /** `http://host:port` with the port actually bound (port 0 → a free port). */
  readonly url: string;
  /**
   * Stops accepting, lets in-flight requests and open streams finish for up
   * to `timeoutMs`, then cuts whatever is left. Resolves when all
   * connections are closed.
   */
  drain(timeoutMs: number): Promise<void>;
}

function urlOf(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
}

/**
 * Hono answers HEAD by dispatching the GET route and wrapping its result in
 * a new Response, which loses @hono/node-server's "already sent" marker: an
 * answer keygate wrote itself (every proxied one) would be written a second
 * time, failing with ERR_HTTP_HEADERS_SENT and destroying the keep-alive
 * socket. HEAD answers already on the wire are reported as such again.
 */
function headSafe(fetch: FetchHandler): FetchHandler {
  return (request, env) => {
    if (request.method !== "HEAD") return fetch(request, env);
    return Promise.resolve(fetch(request, env)).then((res) =>
      (env as { outgoing: ServerResponse }).outgoing.headersSent ? RESPONSE_ALREADY_SENT : res,
    );
  };
}

export async function listen(address: ListenAddress, fetch: FetchHandler): Promise<Listener> {
  // keygate consumes request bodies itself (streamed upstream), so Hono must not drain them behind our back.
  const server = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 30_000 },
    getRequestListener(headSafe(fetch), { autoCleanupIncoming: false }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    url: urlOf(server),
    drain(timeoutMs) {
      return new Promise<void>((resolve) => {
        server.close(() => {
          clearInterval(idleSweep);
          clearTimeout(deadline);
          resolve();
        });
        // Keep-alive connections become idle between requests: close them as soon as they do.
        server.closeIdleConnections();
        const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
        const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
      });
    },
  };
}
