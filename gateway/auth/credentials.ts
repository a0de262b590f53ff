/**
 * Where a request carries its token. Ingress takes only `Authorization:
 * Bearer`; egress also takes the API-key slots the official SDKs fill, since
 * the user's JWT travels as the SDK's API key.
 */
import { conflictingCredentials, unauthorized } from "./failures.ts";

// RFC 6750 b64token, after a case-insensitive scheme and one or more spaces.
const BEARER = /^bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;
const SCHEME_ONLY = /^[ \t]*$/;

/**
 * The token from an `Authorization: Bearer <token>` header; undefined when the
 * header is absent or blank. Throws 401 "token malformed" for another scheme
 * or an empty or ill-formed token.
 * @example const token = bearerToken(c.req.header("authorization"));
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || SCHEME_ONLY.test(authorization)) return undefined;
  const match = BEARER.exec(authorization.trim());
  if (match === null) throw unauthorized("malformed");
  return match[1];
}

/** Headers as fetch/Hono give them (`get`) or as Node's `IncomingHttpHeaders` (lower-case keys). */
export type HeaderSource =
  | { get(name: string): string | null | undefined }
  | Record<string, string | string[] | undefined>;

function headerValues(headers: HeaderSource, name: string): string[] {
  const raw =
    typeof headers.get === "function" ? headers.get(name) : (headers as Record<string, unknown>)[name];
  if (raw === undefined || raw === null) return [];
  // Repeated headers arrive as an array (Node) or joined with ", " (fetch).
  const parts = Array.isArray(raw) ? raw : [raw];
  const values: string[] = [];
  for (const part of parts) {
    for (const value of String(part).split(",")) {
      const trimmed = value.trim();
      if (trimmed !== "") values.push(trimmed);
    }
  }
  return values;
}

/**
 * The JWT from `Authorization: Bearer`, `x-api-key`, `x-goog-api-key` or the
 * `key` query parameter. The same value in several places is fine; two
 * different values throw 401 "conflicting credentials"; none gives undefined.
 * @example const token = egressToken(c.req.raw.headers, new URL(c.req.url).searchParams);
 */
export function egressToken(headers: HeaderSource, query: URLSearchParams | undefined): string | undefined {
  let found: string | undefined;
  const offer = (value: string | undefined) => {
    if (value === undefined || value === "") return;
    if (found !== undefined && found !== value) throw conflictingCredentials();
    found = value;
  };
  for (const authorization of headerValues(headers, "authorization")) offer(bearerToken(authorization));
  for (const value of headerValues(headers, "x-api-key")) offer(value);
  for (const value of headerValues(headers, "x-goog-api-key")) offer(value);
  if (query !== undefined) for (const value of query.getAll("key")) offer(value);
  return found;
}
