import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
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

export async function listen(address: ListenAddress, fetch: FetchHandler): Promise<Listener> {
  // keygate consumes request bodies itself (streamed upstream), so Hono must not drain them behind our back.
  const server = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 30_000 },
    getRequestListener(fetch, { autoCleanupIncoming: false }),
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
