/**
 * Egress request targets: `/{provider}/{rest}?{query}` → provider name, a
 * normalised upstream path and the query minus the JWT slot (`key`).
 *
 * The normalisation is hand-written rather than left to `new URL()` because
 * WHATWG URL parsing resolves `..` across the provider segment, turns `\` into
 * `/` and accepts absolute-form targets: each of those could switch provider
 * or host. Here a path can only ever stay below its provider's root.
 */
import { GatewayError } from "../errors.ts";
import { normaliseSegment } from "./path-segment.ts";

export interface EgressTarget {
  /** First path segment, percent-decoded where unreserved. Looked up by the caller (unknown → 404). */
  readonly provider: string;
  /** Normalised path below the provider root; always starts with `/`. */
  readonly path: string;
  /** `""` or `?…`: the client's query without any `key` parameter, otherwise byte for byte. */
  readonly query: string;
}

/** Anything `splitEgressTarget` would have resolved or refused: dot segments, encoded `/`, `\\`, `.`. */
const NOT_NORMALISED = /(?:^|\/)\.\.?(?:\/|$)|%2f|%5c|%2e/i;
const ENCODED_NUL = /%00/;

function bad(detail: string): never {
  throw new GatewayError(400, "bad-request", "Bad request", detail);
}

/**
 * Splits an egress request target into provider name and upstream path.
 *
 * @example splitEgressTarget("/openai/v1/chat/completions?key=jwt&x=1")
 *   // → { provider: "openai", path: "/v1/chat/completions", query: "?x=1" }
 * @throws GatewayError 400 `bad-request` for absolute-form targets, encoded
 *   slashes/backslashes, control characters, bad escapes and `..` above the
 *   provider root; 404 `unknown-provider` when there is no provider segment.
 */
export function splitEgressTarget(rawTarget: string): EgressTarget {
  if (rawTarget.charCodeAt(0) !== 0x2f) bad('Egress request targets must be a path starting with "/".');
  if (rawTarget.includes("#")) bad("Request targets must not contain a fragment (#).");
  const q = rawTarget.indexOf("?");
  const rawPath = q === -1 ? rawTarget : rawTarget.slice(0, q);
  const query = q === -1 ? "" : filterQuery(rawTarget.slice(q + 1));

  const rawSegments = rawPath.split("/");
  const out: string[] = [];
  let provider: string | undefined;
  let trailingSlash = false;
  for (const raw of rawSegments) {
    if (raw === "") continue; // duplicate, leading and trailing slashes
    const segment = normaliseSegment(raw);
    if (provider === undefined) {
      if (segment === "." || segment === "..")
        bad("The provider segment of an egress path cannot be a dot segment.");
      provider = segment;
      continue;
    }
    trailingSlash = false;
    if (segment === ".") {
      trailingSlash = true;
    } else if (segment === "..") {
      if (out.pop() === undefined) bad("The path climbs above the provider root with '..'.");
      trailingSlash = true;
    } else {
      out.push(segment);
    }
  }
  if (provider === undefined) {
    throw new GatewayError(
      404,
      "unknown-provider",
      "Unknown provider",
      "Egress paths start with /{provider}/.",
    );
  }
  if (rawPath.endsWith("/") && out.length > 0) trailingSlash = true;
  const path = `/${out.join("/")}${trailingSlash && out.length > 0 ? "/" : ""}`;
  return { provider, path, query };
}

/** Drops every `key` parameter (however it is encoded); keeps the rest byte for byte. */
function filterQuery(rawQuery: string): string {
  for (let i = 0; i < rawQuery.length; i++) {
    const c = rawQuery.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) bad("The query string contains a control character or space.");
  }
  if (ENCODED_NUL.test(rawQuery)) bad("The query string contains an encoded NUL.");
  if (rawQuery === "") return "";
  const kept = rawQuery.split("&").filter((part) => paramName(part) !== "key");
  return kept.length === 0 ? "" : `?${kept.join("&")}`;
}

function paramName(part: string): string {
  const eq = part.indexOf("=");
  const name = (eq === -1 ? part : part.slice(0, eq)).replaceAll("+", " ");
  try {
    return decodeURIComponent(name);
  } catch {
    return name; // a malformed name can never be "key"
  }
}

/**
 * Every value of the `key` query parameter (the JWT slot Google's SDK can use),
 * decoded. For the egress authenticator: two different values → 401.
 *
 * @example keyParamValues("/google/v1beta/models?key=abc") // → ["abc"]
 */
export function keyParamValues(rawTarget: string): string[] {
  const q = rawTarget.indexOf("?");
  if (q === -1) return [];
  const values: string[] = [];
  for (const part of rawTarget.slice(q + 1).split("&")) {
    if (paramName(part) !== "key") continue;
    const eq = part.indexOf("=");
    const raw = eq === -1 ? "" : part.slice(eq + 1).replaceAll("+", " ");
    try {
      values.push(decodeURIComponent(raw));
    } catch {
      values.push(raw);
    }
  }
  return values;
}

/**
 * Joins a provider's `base_url` (which may carry a path prefix such as `/v1`)
 * and a path from `splitEgressTarget`. The result's origin is always the base's
 * and its path always lies below the base's path.
 *
 * @example upstreamUrl("https://api.openai.com/v1", "/chat/completions", "")
 *   // → URL https://api.openai.com/v1/chat/completions
 * @throws GatewayError 400 when `path` is not normalised (dot segments,
 *   backslashes, `?`, `#`, control characters) or `query` is not `""`/`?…`.
 */
export function upstreamUrl(baseUrl: string, path: string, query: string): URL {
  if (path.charCodeAt(0) !== 0x2f) bad('The upstream path must start with "/".');
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x5c || c === 0x3f || c === 0x23 || c > 0x7e) {
      bad("The upstream path is not normalised.");
    }
  }
  if (NOT_NORMALISED.test(path)) bad("The upstream path is not normalised.");
  if (query !== "" && (query.charCodeAt(0) !== 0x3f || query.includes("#")))
    bad("The query must be empty or start with ?.");
  const base = baseUrl.endsWith("/") ? baseUrl.slice(0, -1) : baseUrl;
  const url = new URL(`${base}${path}${query}`);
  // Fast check: a base_url already in canonical form is a string prefix of the result.
  if (!url.href.startsWith(`${base}/`) && !sameRoot(base, url)) {
    bad("The upstream path would leave the provider's base URL.");
  }
  return url;
}

function sameRoot(base: string, url: URL): boolean {
  const b = new URL(base);
  const prefix = b.pathname.endsWith("/") ? b.pathname : `${b.pathname}/`;
  return b.origin === url.origin && (url.pathname.startsWith(prefix) || `${url.pathname}/` === prefix);
}
