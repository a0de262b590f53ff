import type { MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";
import type { AccessLogFields, GatewayEnv } from "./context.ts";
import { requestIdFor } from "./request-id.ts";

/**
 * First stage of every listener: assigns the request id (echoed on every
 * answer, including errors and raw proxied responses) and, when the answer
 * is done or the client went away, writes one log line and the metrics.
 * Hooked on the Node response's `close`, so streamed answers are timed to
 * their last byte.
 *
 * The line is built only from gateway-made values (`AccessLogFields`, the
 * path without its query), so it skips pino's field redaction: walking ~110
 * redaction paths per line cost ~4 % of the gateway's CPU under load. The
 * value scrubber (a destination hook) still sees every line.
 */
export function accessLog(listener: string, logger: Logger, metrics: Metrics): MiddlewareHandler<GatewayEnv> {
  const access = logger.child({}, { redact: { paths: [] } });
  return async function accessLogStage(c, next) {
    const started = performance.now();
    const { incoming, outgoing } = c.env;
    const requestId = requestIdFor(incoming.headers["x-request-id"]);
    c.set("requestId", requestId);
    c.set("route", "app");
    c.set("identity", undefined);
    const fields: AccessLogFields = {};
    c.set("log", fields);
    outgoing.once("close", () => {
      const seconds = (performance.now() - started) / 1000;
      const route = c.get("route");
      const status = outgoing.statusCode;
      metrics.requests.inc({ listener, route, status });
      metrics.duration.observe({ listener, route }, seconds);
      const path = incoming.url ?? "/";
      const query = path.indexOf("?");
      access.info({
        msg: "request",
        reqId: requestId,
        listener,
        method: incoming.method,
        path: query === -1 ? path : path.slice(0, query),
        status,
        ms: Math.round(seconds * 1e4) / 10,
        user: c.get("identity")?.user,
        ...(outgoing.writableFinished ? {} : { aborted: true }),
        ...fields,
      });
    });
    await next();
    // Proxied answers carry the id in the one header set they write (no setHeader before writeHead:
    // Node's merge path allocated per header). keygate's own answers get it here.
    if (!outgoing.headersSent) c.res.headers.set("x-request-id", requestId);
  };
}
