import type { MiddlewareHandler } from "hono";
import { bearerToken } from "../auth/credentials.ts";
import { unauthorized } from "../auth/verifier.ts";
import type { GatewayEnv } from "../http/context.ts";

/**
 * Requires a valid JWT unless the path is public (SPEC §3). On public paths a
 * valid token still identifies the user and an invalid one is ignored. CORS
 * preflights pass without a token: browsers never send one with them.
 */
export function authenticate(
  isPublic: (c: Parameters<MiddlewareHandler<GatewayEnv>>[0]) => boolean,
): MiddlewareHandler<GatewayEnv> {
  return async function authenticateStage(c, next) {
    const { verifier } = c.get("runtime");
    const anonymousAllowed =
      isPublic(c) ||
      (c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined);
    let token: string | undefined;
    try {
      token = bearerToken(c.req.header("authorization"));
    } catch (err) {
      if (!anonymousAllowed) throw err;
    }
    if (token === undefined) {
      if (!anonymousAllowed) throw unauthorized("missing");
    } else if (anonymousAllowed) {
      c.set("identity", await verifier.verify(token).catch(() => undefined));
    } else {
      c.set("identity", await verifier.verify(token));
    }
    await next();
  };
}
