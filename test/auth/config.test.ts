import { describe, expect, it } from "vitest";
import { createJwtVerifier } from "../../gateway/auth/verifier.ts";
import { randomSecret } from "../helpers/jwt.ts";
import { authPolicy } from "./support.ts";

const env = { KEYGATE_JWT_SECRET: randomSecret() };

describe("createJwtVerifier refuses a bad configuration at startup", () => {
  it.each([
    [
      "an unset secret variable",
      authPolicy(),
      {},
      "auth.secret_env: environment variable KEYGATE_JWT_SECRET is not set; set it to the HS256 secret shared with the token issuer",
    ],
    [
      "an unset second (rotation) variable",
      authPolicy({ secretEnv: ["KEYGATE_JWT_SECRET", "KEYGATE_JWT_SECRET_OLD"] }),
      env,
      "auth.secret_env: environment variable KEYGATE_JWT_SECRET_OLD is not set; set it to the HS256 secret shared with the token issuer",
    ],
    [
      "a short secret",
      authPolicy(),
      { KEYGATE_JWT_SECRET: "changeme" },
      "auth.secret_env: environment variable KEYGATE_JWT_SECRET holds 8 bytes; an HS256 secret needs at least 32 (generate one with `openssl rand -hex 32`)",
    ],
    [
      "HS256 without any secret_env",
      authPolicy({ secretEnv: [] }),
      env,
      "auth.secret_env: HS256 is allowed but no secret is configured; set auth.secret_env to the environment variable holding the HS256 secret",
    ],
    [
      "an empty algorithm list",
      authPolicy({ algorithms: [] }),
      env,
      "auth.algorithms: the list is empty; list the algorithms your token issuer signs with, e.g. [HS256]",
    ],
    [
      "none",
      authPolicy({ algorithms: ["HS256", "none"] }),
      env,
      'auth.algorithms: "none" is never allowed; tokens must be signed',
    ],
    [
      "an unknown algorithm",
      authPolicy({ algorithms: ["HS257"] }),
      env,
      'auth.algorithms: "HS257" is not a supported JWS algorithm; use HS256/384/512, RS*, PS*, ES256/384/512 or EdDSA',
    ],
    [
      "RS256 without a JWKS",
      authPolicy({ algorithms: ["RS256"] }),
      env,
      "auth.jwks_url: RS256 is allowed but no key set is configured; set auth.jwks_url to the issuer's JWKS URL",
    ],
    [
      "a JWKS with only HMAC algorithms",
      authPolicy({ jwksUrl: "https://issuer.example/jwks.json" }),
      env,
      "auth.algorithms: auth.jwks_url is set but no RS*, PS*, ES* or EdDSA algorithm is allowed; add the issuer's algorithm, e.g. RS256",
    ],
    [
      "a JWKS URL that is not a URL",
      authPolicy({ algorithms: ["RS256"], jwksUrl: "issuer/jwks.json" }),
      env,
      `auth.jwks_url: "issuer/jwks.json" is not a URL; set it to the issuer's JWKS URL (https://…/jwks.json)`,
    ],
    [
      "a JWKS URL that is not http(s)",
      authPolicy({ algorithms: ["RS256"], jwksUrl: "file:///etc/jwks.json" }),
      env,
      'auth.jwks_url: "file:///etc/jwks.json" must be an http(s) URL',
    ],
    [
      "a negative clock tolerance",
      authPolicy({ clockToleranceS: -1 }),
      env,
      "auth.clock_tolerance: must be zero or more seconds, got -1",
    ],
  ])("%s", (_name, policy, environment, message) => {
    expect(() => createJwtVerifier(policy, environment)).toThrow(new Error(message));
  });

  it("never puts the secret in the message", () => {
    const short = "tiny-secret-value";
    expect(() => createJwtVerifier(authPolicy(), { KEYGATE_JWT_SECRET: short })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(short) }),
    );
  });

  it("ignores secret_env when no HS* algorithm is allowed", () => {
    const policy = authPolicy({ algorithms: ["ES256"], jwksUrl: "https://issuer.example/jwks.json" });
    expect(() => createJwtVerifier(policy, {})).not.toThrow();
  });
});
