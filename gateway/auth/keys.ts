/**
 * The keys a verifier trusts, resolved once from the policy and environment.
 * Every misconfiguration fails here, at startup, with a message naming the
 * field and the fix; never per request. Secrets are never echoed.
 */
import { createSecretKey, type KeyObject } from "node:crypto";
import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from "jose";
import type { AuthPolicy } from "../../policies/types.ts";

const HMAC = new Set(["HS256", "HS384", "HS512"]);
const ASYMMETRIC = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);
/** RFC 7518 §3.2: an HMAC key at least as long as the hash (HS256: 32 bytes). */
const MIN_SECRET_BYTES = 32;

export interface TrustedKeys {
  /** Allowed HS* algorithms; checked against each secret. */
  readonly hmacAlgorithms: readonly string[];
  /** One per `secret_env` name, in order (the current secret first). */
  readonly secrets: readonly KeyObject[];
  /** Allowed RS/PS/ES/EdDSA algorithms; checked against the JWKS. */
  readonly jwksAlgorithms: readonly string[];
  readonly jwks: JWTVerifyGetKey | undefined;
}

/** The issuer's key set could not be fetched or read: the issuer's fault, not the token's. */
export class IssuerKeysUnavailableError extends Error {
  constructor(cause: unknown) {
    super("the token issuer's key set (JWKS) could not be fetched", { cause });
    this.name = "IssuerKeysUnavailableError";
  }
}

function readSecrets(auth: AuthPolicy, env: NodeJS.ProcessEnv, hmac: readonly string[]): KeyObject[] {
  const algs = hmac.join("/");
  if (auth.secretEnv.length === 0) {
    throw new Error(
      `auth.secret_env: ${algs} is allowed but no secret is configured; set auth.secret_env to the environment variable holding the ${algs} secret`,
    );
  }
  return auth.secretEnv.map((name) => {
    const value = env[name];
    if (value === undefined || value === "") {
      throw new Error(
        `auth.secret_env: environment variable ${name} is not set; set it to the ${algs} secret shared with the token issuer`,
      );
    }
    const bytes = Buffer.from(value, "utf8");
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new Error(
        `auth.secret_env: environment variable ${name} holds ${bytes.length} bytes; an ${algs} secret needs at least ${MIN_SECRET_BYTES} (generate one with \`openssl rand -hex 32\`)`,
      );
    }
    // A KeyObject, not raw bytes: jose caches its WebCrypto import per key, raw bytes are re-imported per call.
    return createSecretKey(bytes);
  });
}

function remoteKeySet(url: string): JWTVerifyGetKey {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `auth.jwks_url: "${url}" is not a URL; set it to the issuer's JWKS URL (https://…/jwks.json)`,
    );
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new Error(`auth.jwks_url: "${url}" must be an http(s) URL`);
  }
  const jwks = createRemoteJWKSet(parsed);
  // Fetch failures (network, timeout, non-200, bad JSON) become one error the verifier answers with 503;
  // "no key with this kid" stays a JOSE error (the token's problem: signature invalid).
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
        throw error;
      throw new IssuerKeysUnavailableError(error);
    }
  };
}

/**
 * Checks `auth` against `env` and returns the keys to verify with.
 * @example const keys = resolveTrustedKeys(policy.auth, process.env);
 */
export function resolveTrustedKeys(auth: AuthPolicy, env: NodeJS.ProcessEnv): TrustedKeys {
  if (auth.algorithms.length === 0) {
    throw new Error(
      "auth.algorithms: the list is empty; list the algorithms your token issuer signs with, e.g. [HS256]",
    );
  }
  for (const alg of auth.algorithms) {
    if (alg.toLowerCase() === "none")
      throw new Error('auth.algorithms: "none" is never allowed; tokens must be signed');
    if (!HMAC.has(alg) && !ASYMMETRIC.has(alg)) {
      throw new Error(
        `auth.algorithms: "${alg}" is not a supported JWS algorithm; use HS256/384/512, RS*, PS*, ES256/384/512 or EdDSA`,
      );
    }
  }
  if (!Number.isFinite(auth.clockToleranceS) || auth.clockToleranceS < 0) {
    throw new Error(`auth.clock_tolerance: must be zero or more seconds, got ${auth.clockToleranceS}`);
  }
  if (auth.userClaim === "") throw new Error("auth.user_claim: must name a claim, e.g. sub");
  const hmacAlgorithms = auth.algorithms.filter((alg) => HMAC.has(alg));
  const jwksAlgorithms = auth.algorithms.filter((alg) => ASYMMETRIC.has(alg));
  if (jwksAlgorithms.length > 0 && auth.jwksUrl === undefined) {
    throw new Error(
      `auth.jwks_url: ${jwksAlgorithms.join("/")} is allowed but no key set is configured; set auth.jwks_url to the issuer's JWKS URL`,
    );
  }
  if (auth.jwksUrl !== undefined && jwksAlgorithms.length === 0) {
    throw new Error(
      "auth.algorithms: auth.jwks_url is set but no RS*, PS*, ES* or EdDSA algorithm is allowed; add the issuer's algorithm, e.g. RS256",
    );
  }
  return {
    hmacAlgorithms,
    secrets: hmacAlgorithms.length > 0 ? readSecrets(auth, env, hmacAlgorithms) : [],
    jwksAlgorithms,
    jwks: auth.jwksUrl === undefined ? undefined : remoteKeySet(auth.jwksUrl),
  };
}
