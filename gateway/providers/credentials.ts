/**
 * Credential handling on egress: the client's credentials (its JWT in any SDK
 * slot, cookies, org/project selectors) never reach a provider; the user's
 * stored key goes into exactly the slot the provider's `auth` names.
 */
import type { AuthSlot } from "../../policies/types.ts";
import { GatewayError } from "../errors.ts";
import { isKeygateHeader } from "../proxy/headers.ts";

/** Always removed: they carry the caller's JWT or session, never meant for a provider. */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "x-api-key",
  "x-goog-api-key",
  "cookie",
  "proxy-authorization",
]);

/** Removed unless the provider's `keep_headers` lists them: they select billing on the provider side. */
const KEEPABLE_HEADERS: ReadonlySet<string> = new Set(["openai-organization", "openai-project"]);

/**
 * Whether a (lower-case) client header must not reach a provider:
 * `authorization`, `x-api-key`, `x-goog-api-key`, `cookie`,
 * `proxy-authorization`, every `x-keygate-*`, and `openai-organization` /
 * `openai-project` unless in `keep`. `keep` cannot rescue a credential header.
 * The egress passes it to `forwardableHeaders`, so headers are copied once.
 */
export function isClientCredential(name: string, keep: ReadonlySet<string>): boolean {
  if (CREDENTIAL_HEADERS.has(name) || isKeygateHeader(name)) return true;
  return KEEPABLE_HEADERS.has(name) && !keep.has(name);
}

/**
 * A copy of the client's headers without its credentials (see
 * `isClientCredential`). Names come out lower-case; `undefined` values are dropped.
 *
 * @example stripClientCredentials(req.headers, provider.keepHeaders)
 */
export function stripClientCredentials(
  headers: Record<string, string | string[] | undefined>,
  keep: ReadonlySet<string>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    const lower = name.toLowerCase();
    if (value !== undefined && !isClientCredential(lower, keep)) out[lower] = value;
  }
  return out;
}

/** Printable ASCII without spaces: what every provider key looks like and what a header value can carry safely. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

const SLOT_HEADER: Readonly<Record<AuthSlot, string>> = {
  bearer: "authorization",
  "x-api-key": "x-api-key",
  "x-goog-api-key": "x-goog-api-key",
};

/**
 * Puts the user's stored key into the provider's slot (`bearer` →
 * `authorization: Bearer <key>`, or the `x-api-key` / `x-goog-api-key` header),
 * replacing any value already there. Never a URL parameter.
 *
 * @example setProviderKey(headers, provider.auth, storedKey)
 * @throws GatewayError 500 `internal` when the key is empty, over 256
 *   characters or not a valid header value (the message never holds the key).
 */
export function setProviderKey(
  headers: Record<string, string | string[]>,
  slot: AuthSlot,
  apiKey: string,
): void {
  const header = SLOT_HEADER[slot];
  if (header === undefined) {
    throw new GatewayError(
      500,
      "internal",
      "Internal error",
      `Unknown provider auth slot "${String(slot)}".`,
    );
  }
  if (apiKey.length === 0 || apiKey.length > 256 || !HEADER_SAFE.test(apiKey)) {
    throw new GatewayError(
      500,
      "internal",
      "Internal error",
      "The stored provider key is not a usable header value; store it again with PUT /_keygate/keys/{provider}.",
    );
  }
  headers[header] = slot === "bearer" ? `Bearer ${apiKey}` : apiKey;
}
