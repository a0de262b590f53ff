import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { VaultError } from "./errors.ts";
import { generateMasterKey, type Keyring, parseMasterKeys } from "./keyring.ts";

export interface ResolvedKeyring {
  keyring: Keyring;
  /** Set when a dev key from the data dir is in use: log it at startup (it names no secret). */
  warning?: string;
}

/** Where embedded mode keeps its data: `KEYGATE_DATA_DIR`, default `./.keygate`. */
export function dataDirFrom(env: NodeJS.ProcessEnv): string {
  return env.KEYGATE_DATA_DIR || "./.keygate";
}

/**
 * The keyring for this process (SPEC §2): `KEYGATE_MASTER_KEYS` when set.
 * Otherwise a missing key is a startup error with Redis configured or
 * `NODE_ENV=production` (a key only this host knows would strand shared data);
 * in embedded development a key is generated once into `<dataDir>/master.key`
 * (mode 0600) and reused, with a warning. `mode` overrides what `env` implies
 * (the composition root has already decided both).
 *
 * @example const { keyring, warning } = await resolveKeyring(process.env, dataDirFrom(process.env))
 */
export async function resolveKeyring(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  mode: { redisConfigured?: boolean; production?: boolean } = {},
): Promise<ResolvedKeyring> {
  const configured = env.KEYGATE_MASTER_KEYS?.trim();
  if (configured) return { keyring: parseMasterKeys(configured) };
  const redis = mode.redisConfigured ?? Boolean(env.REDIS_URL || env.REDIS_CLUSTER_NODES);
  const production = mode.production ?? env.NODE_ENV === "production";
  const reason = redis ? "Redis is configured" : production ? "NODE_ENV=production" : undefined;
  if (reason !== undefined) {
    throw new Error(
      `KEYGATE_MASTER_KEYS is not set (required because ${reason}): ` +
        "set it to the output of `keygate keygen` (ID:BASE64), the same value on every instance",
    );
  }
  const file = join(dataDir, "master.key");
  const created = await createDevKey(dataDir, file);
  const text = (await readFile(file, "utf8")).trim();
  let keyring: Keyring;
  try {
    keyring = parseMasterKeys(text);
  } catch (error) {
    const detail = error instanceof VaultError ? error.message.replace("KEYGATE_MASTER_KEYS", file) : "";
    throw new Error(`dev master key ${file} is unusable (${detail}); delete it only if the vault is empty`);
  }
  // Tighten a key file someone made group/world readable (e.g. copied with a permissive umask).
  if ((await stat(file)).mode & 0o077) await chmod(file, 0o600);
  return {
    keyring,
    warning:
      `KEYGATE_MASTER_KEYS is not set: ${created ? "generated" : "using"} the dev master key in ${file}. ` +
      "Fine for development; in production set KEYGATE_MASTER_KEYS (see `keygate keygen`).",
  };
}

/**
 * Creates the key file unless it exists. The key is written to a temp file and
 * hard-linked into place: the link appears whole or not at all, so processes
 * starting at once agree on one key and never read a half-written file.
 */
async function createDevKey(dataDir: string, file: string): Promise<boolean> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(`${generateMasterKey("dev")}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp);
  }
}
