import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { loadPolicyFile } from "../../policies/load.ts";
import { withDevJwtSecret } from "../config/dev-secret.ts";
import { loadConfig } from "../config/env.ts";

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * `keygate token --user U [--tier T] [--ttl 15m]`: mints a short-lived HS*
 * JWT with the policy's issuer, audience and claim names, signed with the
 * first `secret_env` secret — for development, smoke tests, and background
 * jobs that act for a user without a user request (SPEC §4).
 */
export async function tokenCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: "string" },
      tier: { type: "string" },
      ttl: { type: "string", default: "15m" },
      policies: { type: "string" },
    },
  });
  if (!values.user) {
    io.stderr.write("keygate token: --user is required, e.g. keygate token --user alice --ttl 15m\n");
    return 1;
  }
  const config = loadConfig(io.env, values.policies);
  const loaded = await loadPolicyFile(config.policiesFile, io.env);
  if (!loaded.ok) {
    io.stderr.write(`${loaded.errors.join("\n")}\n`);
    return 1;
  }
  const { auth } = loaded.policy;
  const alg = auth.algorithms.find((a) => a.startsWith("HS"));
  const { env } = await withDevJwtSecret(io.env, auth, {
    dataDir: config.dataDir,
    embedded: !io.env["REDIS_URL"] && !io.env["REDIS_CLUSTER_NODES"],
    production: config.production,
  });
  const secret = auth.secretEnv.map((name) => env[name]).find(Boolean);
  if (!alg || !secret) {
    io.stderr.write(
      `keygate token: the policy allows no HS* algorithm with a secret in ${auth.secretEnv.join(", ") || "auth.secret_env"}; tokens for JWKS issuers come from the issuer\n`,
    );
    return 1;
  }
  const claims: Record<string, unknown> = { [auth.userClaim]: values.user };
  if (values.tier && auth.tierClaim) claims[auth.tierClaim] = values.tier;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(values.ttl);
  if (auth.issuer) jwt.setIssuer(auth.issuer);
  if (auth.audience) jwt.setAudience(auth.audience);
  io.stdout.write(`${await jwt.sign(new TextEncoder().encode(secret))}\n`);
  return 0;
}
