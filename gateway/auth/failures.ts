/**
 * Every way a token check can fail, and the one 401 each becomes.
 *
 * `error_description` is stable (clients and tests match on it); `detail` says
 * what failed and what to do. Neither ever repeats the token.
 */
import { GatewayError } from "../errors.ts";

export type AuthFailure =
  | "missing"
  | "malformed"
  | "signature"
  | "algorithm"
  | "no-exp"
  | "expired"
  | "not-yet-valid"
  | "issuer"
  | "audience"
  | "no-user";

const FAILURES: Readonly<Record<AuthFailure, { readonly description: string; readonly detail: string }>> = {
  missing: {
    description: "token missing",
    detail: "The request carries no token; send it as `Authorization: Bearer <token>`.",
  },
  malformed: {
    description: "token malformed",
    detail: "The token is not a well-formed JWT; send the token exactly as the issuer minted it.",
  },
  signature: {
    description: "signature invalid",
    detail:
      "The token's signature matches no trusted key; sign in again or mint a new token from the configured issuer.",
  },
  algorithm: {
    description: "algorithm not allowed",
    detail:
      "The token is signed with an algorithm this gateway does not accept; mint a token with an allowed algorithm.",
  },
  "no-exp": {
    description: "exp claim missing",
    detail:
      "The token has no exp claim and tokens that never expire are refused; mint a token with an expiry.",
  },
  expired: {
    description: "token expired",
    detail: "The token expired; sign in again or mint a new token.",
  },
  "not-yet-valid": {
    description: "token not yet valid",
    detail: "The token's nbf lies in the future; wait until it is valid or check the issuer's clock.",
  },
  issuer: {
    description: "issuer invalid",
    detail:
      "The token comes from an issuer this gateway does not trust; use a token from the configured issuer.",
  },
  audience: {
    description: "audience invalid",
    detail: "The token is meant for another audience; mint a token for this API's audience.",
  },
  "no-user": {
    description: "user claim missing",
    detail: "The token names no user; mint a token whose user claim holds the user's id.",
  },
};

/** A 401 with `WWW-Authenticate: Bearer error="invalid_token", error_description="<description>"`. */
function unauthorizedError(description: string, detail: string): GatewayError {
  return new GatewayError(401, "unauthorized", "Unauthorized", detail, {
    headers: { "WWW-Authenticate": `Bearer error="invalid_token", error_description="${description}"` },
  });
}

/**
 * The 401 for a failed token check; callers use it for `"missing"` too.
 * @example if (token === undefined) throw unauthorized("missing");
 */
export function unauthorized(reason: AuthFailure): GatewayError {
  const failure = FAILURES[reason];
  return unauthorizedError(failure.description, failure.detail);
}

/** The 401 for a request that carries two different credentials (egress accepts one token in several slots). */
export function conflictingCredentials(): GatewayError {
  return unauthorizedError(
    "conflicting credentials",
    "The request carries two different credentials; send the token in one place only (the SDK's API key).",
  );
}
