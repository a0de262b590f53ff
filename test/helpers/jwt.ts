/**
 * JWTs for tests: real signed tokens (jose `SignJWT`) and the broken shapes
 * the verifier must refuse. Secrets are generated per run, never committed.
 */
import { randomBytes } from "node:crypto";
import { type CryptoKey, type JWK, type KeyObject, SignJWT } from "jose";

/** A fresh HS* secret: 32 random bytes as 64 hex characters (the verifier refuses shorter ones). */
export function randomSecret(): string {
  return randomBytes(32).toString("hex");
}

export interface MintOptions {
  /** The user claim; a number is kept as a number. Omitted when undefined. */
  sub?: string | number;
  /** HS*: the secret string (as the env var holds it); RS/ES/EdDSA: a private key. */
  secret: string | CryptoKey | KeyObject | JWK | Uint8Array;
  /** Default `HS256`. */
  alg?: string;
  /** Epoch seconds, or a jose time span from now (`"1h"`, `"-10s"`); `null` omits it. Default `"1h"`. */
  exp?: number | string | null;
  /** Epoch seconds, or a time span from now (`"30s"`). */
  nbf?: number | string;
  /** Epoch seconds; default now. */
  iat?: number;
  iss?: string;
  aud?: string | string[];
  kid?: string;
  jti?: string;
  /** Extra payload claims (e.g. `{ tier: "pro" }`). */
  claims?: Record<string, unknown>;
}

/**
 * A signed compact JWT.
 * @example const token = await mintToken({ sub: "alice", secret: process.env.KEYGATE_JWT_SECRET! });
 */
export async function mintToken(options: MintOptions): Promise<string> {
  const alg = options.alg ?? "HS256";
  const payload: Record<string, unknown> = { ...options.claims };
  if (options.sub !== undefined) payload["sub"] = options.sub;
  const jwt = new SignJWT(payload).setProtectedHeader({
    alg,
    typ: "JWT",
    ...(options.kid === undefined ? {} : { kid: options.kid }),
  });
  jwt.setIssuedAt(options.iat);
  const exp = options.exp === undefined ? "1h" : options.exp;
  if (exp !== null) jwt.setExpirationTime(exp);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  if (options.iss !== undefined) jwt.setIssuer(options.iss);
  if (options.aud !== undefined) jwt.setAudience(options.aud);
  if (options.jti !== undefined) jwt.setJti(options.jti);
  const key = typeof options.secret === "string" ? new TextEncoder().encode(options.secret) : options.secret;
  return jwt.sign(key);
}

/** base64url of a JSON value, for hand-built tokens. */
export function b64url(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

/** An unsecured token (`alg: none`, empty signature) with the given payload; `exp` defaults to an hour ahead. */
export function noneToken(payload: Record<string, unknown>): string {
  const body = { exp: Math.floor(Date.now() / 1000) + 3600, ...payload };
  return `${b64url({ alg: "none", typ: "JWT" })}.${b64url(body)}.`;
}

/** Tokens that are not a compact JWS at all, by name (refused before any signature check). */
export const malformedTokens = {
  garbage: "not-a-jwt",
  twoParts: `${b64url({ alg: "HS256" })}.${b64url({ sub: "alice" })}`,
  badBase64: "e$$$.e$$$.e$$$",
  nonJsonHeader: `${b64url("this is not json")}.${b64url({ sub: "alice" })}.c2ln`,
} as const;
