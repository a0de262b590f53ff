import type { MiddlewareHandler } from "hono";
import type { RuntimeRef } from "../runtime.ts";
import type { GatewayEnv } from "./context.ts";

/** Resolves the client address once per request (trusting `x-forwarded-for` only from `trust_proxies`). */
export function clientIpStage(runtime: RuntimeRef): MiddlewareHandler<GatewayEnv> {
  return async function resolveClientIp(c, next) {
    const { incoming } = c.env;
    const forwarded = incoming.headers["x-forwarded-for"];
    c.set("clientIp", runtime.current.ips.clientIp(incoming.socket.remoteAddress ?? "", forwarded));
    await next();
  };
}
