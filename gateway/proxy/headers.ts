import type { IncomingHttpHeaders } from "node:http";

/** RFC 9110 §7.6.1 connection-specific headers, never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

export type HeaderMap = Record<string, string | string[]>;

/**
 * Copies headers minus hop-by-hop ones, minus those the `Connection` header
 * names, minus any for which `drop(name)` is true. Names are lower-case (Node
 * and undici both lower-case them).
 */
export function forwardableHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  drop?: (name: string) => boolean,
): HeaderMap {
  const connection = headers["connection"];
  const named =
    typeof connection === "string" && connection !== "keep-alive" && connection !== "close"
      ? new Set(connection.split(",").map((token) => token.trim().toLowerCase()))
      : undefined;
  const out: HeaderMap = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name) || drop?.(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Client-sent `x-keygate-*` headers are never trusted upstream: keygate sets its own. */
export const isKeygateHeader = (name: string): boolean => name.startsWith("x-keygate-");
