/** Shared fixtures for the auth tests: a policy builder and an exact 401 assertion. */
import { expect } from "vitest";
import { GatewayError } from "../../gateway/errors.ts";
import type { AuthPolicy } from "../../policies/types.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** An HS256 policy reading `KEYGATE_JWT_SECRET`, no issuer/audience, 5 s tolerance, `sub`/`tier`. */
export function authPolicy(overrides: Partial<Mutable<AuthPolicy>> = {}): AuthPolicy {
  return {
    algorithms: ["HS256"],
    secretEnv: ["KEYGATE_JWT_SECRET"],
    clockToleranceS: 5,
    userClaim: "sub",
    tierClaim: "tier",
    isPublic: () => false,
    ...overrides,
  };
}

/** The exact header a failed check must carry. */
export function challenge(description: string): string {
  return `Bearer error="invalid_token", error_description="${description}"`;
}

/** Asserts `action` rejects with the 401 for `description`, header included. */
export async function expectUnauthorized(
  action: Promise<unknown>,
  description: string,
): Promise<GatewayError> {
  const error = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  const gatewayError = error as GatewayError;
  expect({ status: gatewayError.status, slug: gatewayError.slug, title: gatewayError.title }).toEqual({
    status: 401,
    slug: "unauthorized",
    title: "Unauthorized",
  });
  expect(gatewayError.headers).toEqual({ "WWW-Authenticate": challenge(description) });
  return gatewayError;
}
