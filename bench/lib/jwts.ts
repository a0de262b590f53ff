/**
 * Many distinct users for the bench: one HS256 JWT per `sub`, so per-user
 * counters, vault lookups and any cache see a realistic spread of keys.
 */
import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";

/** Issuer and audience the bench's policy files check. */
export const BENCH_ISSUER = "keygate-bench";
export const BENCH_AUDIENCE = "keygate-bench";

export interface BenchUsers {
  /** The HS256 secret, to hand to keygate as `KEYGATE_JWT_SECRET`. */
  readonly secret: string;
  readonly subs: readonly string[];
  /** `tokens[i]` is the JWT of `subs[i]`. */
  readonly tokens: readonly string[];
}

/** Mints `count` users' JWTs valid for `ttlS` seconds under a fresh random secret. */
export async function mintUsers(count: number, ttlS = 3_600): Promise<BenchUsers> {
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`user count must be a positive integer, got ${count}`);
  const secret = randomBytes(32).toString("hex");
  const key = new TextEncoder().encode(secret);
  const subs = Array.from({ length: count }, (_, i) => `bench-user-${String(i).padStart(5, "0")}`);
  const tokens = await Promise.all(
    subs.map((sub) =>
      new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(sub)
        .setIssuer(BENCH_ISSUER)
        .setAudience(BENCH_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ttlS}s`)
        .sign(key),
    ),
  );
  return { secret, subs, tokens };
}

/** An obviously fake OpenAI-shaped key, generated at run time (never a fixture). */
export function fakeProviderKey(): string {
  return `sk-test-${randomBytes(24).toString("hex")}`;
}
