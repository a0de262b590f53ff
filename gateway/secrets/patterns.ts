/**
 * Shapes of secrets keygate handles, for value-based scrubbing (logs, response
 * headers, non-2xx bodies). Field-based redaction catches secrets where we
 * know the field; these catch them wherever they turn up.
 *
 * Deliberately broad: a false positive costs a `[REDACTED]` in a log line, a
 * false negative costs a leaked key.
 */

export const REDACTED = "[REDACTED]";

/** Provider API keys: OpenAI (`sk-…`, `sk-proj-…`), Anthropic (`sk-ant-…`), Google (`AIza…`). */
export const PROVIDER_KEY_SOURCE = "(?:sk-[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{30,})";

/** Compact JWS: three base64url parts, the first a JSON header (`eyJ`). */
export const JWT_SOURCE = String.raw`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`;

/** Provider key shapes only (response headers and non-2xx bodies). */
export function providerKeyRegExp(): RegExp {
  return new RegExp(PROVIDER_KEY_SOURCE, "g");
}

/** Everything that must never reach a log line. */
export function logSecretRegExp(): RegExp {
  return new RegExp(`${JWT_SOURCE}|${PROVIDER_KEY_SOURCE}`, "g");
}
