/**
 * JWT verification for both listeners: jose checks signature, algorithm,
 * `exp` (always required), `nbf`, issuer and audience; this module picks the
 * keys, maps failures to one 401 each and remembers verified tokens.
 */
import type { KeyObject } from "node:crypto";
import { decodeProtectedHeader, type JWTPayload, type JWTVerifyOptions, jwtVerify } from "jose";
import type { AuthPolicy } from "../../policies/types.ts";
import { GatewayError } from "../errors.ts";
import { type AuthFailure, unauthorized } from "./failures.ts";
import { failureOf } from "./jose-errors.ts";
import { IssuerKeysUnavailableError, resolveTrustedKeys, type TrustedKeys } from "./keys.ts";
import { createTokenCache } from "./token-cache.ts";

export { type AuthFailure, unauthorized };

/** Who a verified token speaks for. */
export interface Identity {
  readonly user: string;
  readonly tier: string | undefined;
  /** exp, epoch seconds */
  readonly exp: number;
}

export interface JwtVerifier {
  /** Resolves the token's identity or throws `GatewayError` 401 (503 if the issuer's JWKS is unreachable). */
  verify(token: string): Promise<Identity>;
}

const CACHE_ENTRIES = 10_000;
/** Far beyond any real JWT; refuses to base64-decode megabytes for an attacker. */
const MAX_TOKEN_CHARS = 16_384;
/** Compact JWS: three base64url parts (the signature may be empty, which jose then refuses). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

class TokenRejected extends Error {
  readonly failure: AuthFailure;
  constructor(failure: AuthFailure) {
    super(failure);
    this.failure = failure;
  }
}

function claimsOptions(auth: AuthPolicy, algorithms: readonly string[]): JWTVerifyOptions {
  return {
    algorithms: [...algorithms],
    clockTolerance: auth.clockToleranceS,
    requiredClaims: ["exp"],
    ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
    ...(auth.audience === undefined ? {} : { audience: auth.audience }),
  };
}

/** Tries each secret in order (rotation); a claim failure after a good signature is final. */
async function verifyHmac(token: string, secrets: readonly KeyObject[], options: JWTVerifyOptions) {
  let lastError: unknown;
  for (const secret of secrets) {
    try {
      return (await jwtVerify(token, secret, options)).payload;
    } catch (error) {
      if (failureOf(error) !== "signature") throw error;
      lastError = error;
    }
  }
  throw lastError;
}

function identityOf(payload: JWTPayload, auth: AuthPolicy): Identity {
  const rawUser = payload[auth.userClaim];
  const user =
    typeof rawUser === "string"
      ? rawUser
      : typeof rawUser === "number" && Number.isFinite(rawUser)
        ? String(rawUser)
        : "";
  if (user === "") throw new TokenRejected("no-user");
  const rawTier = auth.tierClaim === undefined ? undefined : payload[auth.tierClaim];
  // jose has checked exp is present and numeric (requiredClaims).
  return Object.freeze({
    user,
    tier: typeof rawTier === "string" ? rawTier : undefined,
    exp: payload.exp as number,
  });
}

function algorithmOf(token: string): string {
  if (token.length > MAX_TOKEN_CHARS || !COMPACT_JWS.test(token)) throw new TokenRejected("malformed");
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw new TokenRejected("malformed");
  }
  if (typeof alg !== "string") throw new TokenRejected("malformed");
  return alg;
}

function toGatewayError(error: unknown): unknown {
  if (error instanceof TokenRejected) return unauthorized(error.failure);
  if (error instanceof IssuerKeysUnavailableError) {
    return new GatewayError(
      503,
      "upstream-unavailable",
      "Service Unavailable",
      "The token issuer's key set (JWKS) cannot be fetched right now, so no token can be checked; retry shortly.",
      { cause: error, headers: { "Retry-After": "5" } },
    );
  }
  const failure = failureOf(error);
  return failure === undefined ? error : unauthorized(failure);
}

/**
 * Checks `auth` and the secrets it names in `env` now (throws Error with a
 * startup message naming the field) and returns the verifier.
 * @example const verifier = createJwtVerifier(policy.auth, process.env); const { user } = await verifier.verify(token);
 */
export function createJwtVerifier(auth: AuthPolicy, env: NodeJS.ProcessEnv): JwtVerifier {
  const keys: TrustedKeys = resolveTrustedKeys(auth, env);
  const hmacAlgorithms = new Set(keys.hmacAlgorithms);
  const jwksAlgorithms = new Set(keys.jwksAlgorithms);
  const hmacOptions = claimsOptions(auth, keys.hmacAlgorithms);
  const jwksOptions = claimsOptions(auth, keys.jwksAlgorithms);
  const cache = createTokenCache<Identity>(CACHE_ENTRIES);
  const toleranceMs = auth.clockToleranceS * 1000;

  async function verifyUncached(token: string): Promise<Identity> {
    const alg = algorithmOf(token);
    let payload: JWTPayload;
    // Routing on the header's alg keeps HMAC secrets and JWKS public keys apart (no algorithm confusion).
    if (hmacAlgorithms.has(alg)) payload = await verifyHmac(token, keys.secrets, hmacOptions);
    else if (jwksAlgorithms.has(alg) && keys.jwks !== undefined) {
      payload = (await jwtVerify(token, keys.jwks, jwksOptions)).payload;
    } else throw new TokenRejected("algorithm");
    return identityOf(payload, auth);
  }

  return {
    async verify(token) {
      const cached = cache.get(token, Date.now());
      if (cached !== undefined) return cached;
      let identity: Identity;
      try {
        identity = await verifyUncached(token);
      } catch (error) {
        throw toGatewayError(error);
      }
      cache.set(token, identity, identity.exp * 1000 + toleranceMs);
      return identity;
    },
  };
}
