import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuthPolicy } from "../../policies/types.ts";

/** File in the embedded data dir holding the generated development JWT secret. */
export const DEV_JWT_SECRET_FILE = "jwt.secret";

/**
 * `npm ci && npm start` must work without any set-up: in embedded,
 * non-production mode, when the policy allows HS* tokens and none of the
 * `secret_env` variables is set, a development secret is generated once into
 * the data dir (mode 0600) and used as the first of them, with a warning.
 * Anywhere else a missing secret stays a startup error.
 */
export async function withDevJwtSecret(
  env: NodeJS.ProcessEnv,
  auth: AuthPolicy,
  options: { dataDir: string; embedded: boolean; production: boolean },
): Promise<{ env: NodeJS.ProcessEnv; warning?: string }> {
  const name = auth.secretEnv[0];
  const hmac = auth.algorithms.some((alg) => alg.startsWith("HS"));
  if (!options.embedded || options.production || !hmac || name === undefined) return { env };
  if (auth.secretEnv.some((variable) => env[variable])) return { env };
  const file = join(options.dataDir, DEV_JWT_SECRET_FILE);
  let secret: string;
  try {
    secret = (await readFile(file, "utf8")).trim();
  } catch {
    secret = randomBytes(32).toString("hex");
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: "wx" }).catch(async () => {
      secret = (await readFile(file, "utf8")).trim();
    });
  }
  return {
    env: { ...env, [name]: secret },
    warning: `${name} is not set: using the development JWT secret in ${file}; mint a token with \`keygate token --user <id>\`. Set ${name} (and REDIS_URL) in production.`,
  };
}
