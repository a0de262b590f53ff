import type { MiddlewareHandler } from "hono";
import type { RuntimeRef } from "../runtime.ts";
import type { GatewayEnv } from "./context.ts";
import { matchPath } from "./path.ts";

/**
 * Fixes what one ingress request works with, once: the runtime (so a policy
 * reload mid-request cannot mix two policies), the normalised path, and the
 * client address (`x-forwarded-for` trusted only from `trust_proxies`).
 */
export function requestScope(runtime: RuntimeRef): MiddlewareHandler<GatewayEnv> {
  return async function scopeRequest(c, next) {
    const current = runtime.current;
    c.set("runtime", current);
    const { incoming } = c.env;
    c.set(
      "clientIp",
      current.ips.clientIp(incoming.socket.remoteAddress ?? "", incoming.headers["x-forwarded-for"]),
    );
    c.set("path", matchPath(c.req.path));
    await next();
  };
}
