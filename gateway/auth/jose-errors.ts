/**
 * jose's error codes, mapped to the failure a client is told about. Anything
 * unrecognised is not a token problem and is rethrown by the verifier.
 */
import type { AuthFailure } from "./failures.ts";

const BY_CLAIM: Readonly<Record<string, AuthFailure>> = {
  nbf: "not-yet-valid",
  iss: "issuer",
  aud: "audience",
};

/** The failure for a jose error, or undefined when `error` is not one jose raises for a bad token. */
export function failureOf(error: unknown): AuthFailure | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, claim, reason } = error as { code?: unknown; claim?: unknown; reason?: unknown };
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (claim === "exp" && reason === "missing") return "no-exp";
      // A claim of the wrong type (e.g. exp: "tomorrow") is a malformed token; a missing iss/aud is a wrong one.
      if (reason === "invalid" || typeof claim !== "string") return "malformed";
      return BY_CLAIM[claim] ?? "malformed";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return "signature";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return "algorithm";
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return "malformed";
    default:
      return undefined;
  }
}
