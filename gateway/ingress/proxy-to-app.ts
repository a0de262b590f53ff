import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";
import type { GatewayEnv } from "../http/context.ts";
import { forwardableHeaders, isKeygateHeader } from "../proxy/headers.ts";
import type { Runtime } from "../runtime.ts";

/** Header-safe form of a user id: visible ASCII as is, anything else percent-encoded. */
export function userHeaderValue(user: string): string {
  return /^[\x21-\x7e]*$/.test(user) ? user : encodeURIComponent(user);
}

/**
 * Last ingress stage: forwards to the app with the trusted headers and
 * streams the answer straight into the Node response (no web-stream copy).
 */
export async function proxyToApp(
  c: Context<GatewayEnv>,
  runtime: Runtime,
  answerHeaders: Readonly<Record<string, string>>,
): Promise<Response> {
  const { incoming, outgoing } = c.env;
  const peer = incoming.socket.remoteAddress ?? "";
  const headers = forwardableHeaders(incoming.headers, isKeygateHeader);
  const identity = c.get("identity");
  if (identity) headers["x-keygate-user"] = userHeaderValue(identity.user);
  headers["x-request-id"] = c.get("requestId");
  const forwardedFor = incoming.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = runtime.ips.forwardedFor(peer, forwardedFor);
  const proto = incoming.headers["x-forwarded-proto"];
  headers["x-forwarded-proto"] = typeof proto === "string" && runtime.ips.isTrusted(peer) ? proto : "http";
  if (incoming.headers.host) headers["x-forwarded-host"] = incoming.headers.host;

  // The parsed URL: dot segments already resolved, so the app sees the path keygate checked.
  const url = c.req.url;
  const method = incoming.method ?? "GET";
  await runtime.app.forward(
    {
      method,
      path: url.slice(url.indexOf("/", url.indexOf("//") + 2)),
      headers,
      body: method === "GET" || method === "HEAD" ? null : incoming,
      answerHeaders: { ...answerHeaders, "x-request-id": c.get("requestId") },
    },
    outgoing,
  );
  return RESPONSE_ALREADY_SENT;
}
