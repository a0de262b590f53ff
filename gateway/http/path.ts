import { GatewayError } from "../errors.ts";

/**
 * The path policies match on: decoded, without query, duplicate slashes
 * collapsed. The URL parser has already resolved `.`/`..` segments (also
 * their `%2e` forms). `exact` is false when decoding produced a `/` or `\`
 * or a dot segment: such a path can mean two things, so it is never treated
 * as public (limits still match on the decoded form).
 */
export interface MatchPath {
  readonly path: string;
  readonly exact: boolean;
}

const DOUBLE_SLASH = /\/{2,}/g;
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

export function matchPath(pathname: string): MatchPath {
  const collapsed = pathname.includes("//") ? pathname.replace(DOUBLE_SLASH, "/") : pathname;
  if (!collapsed.includes("%")) return { path: collapsed, exact: true };
  let decoded: string;
  try {
    decoded = decodeURIComponent(collapsed);
  } catch {
    throw new GatewayError(
      400,
      "bad-request",
      "Bad Request",
      "The request path has an invalid percent-encoding.",
    );
  }
  const exact = !/%2f|%5c/i.test(collapsed) && !DOT_SEGMENT.test(decoded);
  return { path: decoded.includes("//") ? decoded.replace(DOUBLE_SLASH, "/") : decoded, exact };
}
