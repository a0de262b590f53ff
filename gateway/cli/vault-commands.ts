/**
 * Ops commands for the vault (SPEC §1): `keygen`, `vault rotate`,
 * `keys put|list|rm`. Each takes `(args, io)` and resolves to an exit code:
 * 0 done, 1 failed (message on stderr), 2 bad command line. Nothing printed
 * ever holds a plaintext key: `put` reads it from stdin, `list` shows hints.
 */
import { loadPolicyFile } from "../../policies/load.ts";
import { policiesPath } from "../config/env.ts";
import { VaultError } from "../vault/errors.ts";
import { generateMasterKey } from "../vault/keyring.ts";
import { openVaultStore } from "../vault/open-store.ts";
import { dataDirFrom, resolveKeyring } from "../vault/resolve-keyring.ts";
import { createVault, type KeyInfo, MAX_KEY_LENGTH, toKeyInfo } from "../vault/vault.ts";
import {
  parseFlags,
  readSecretFromStdin,
  required,
  UsageError,
  type VaultCommandIo,
} from "./vault-cli-support.ts";

export type { VaultCommandIo };

/** `keygate keygen [--id ID]`: prints a new master key as `ID:BASE64` on stdout. */
export function keygen(args: string[], io: VaultCommandIo): Promise<number> {
  return run("keygen", "keygate keygen [--id ID]", io, async () => {
    const { id } = parseFlags(args, ["id"]);
    io.stdout.write(`${generateMasterKey(id)}\n`);
    io.stderr.write(
      "Put it first in KEYGATE_MASTER_KEYS (keep the old keys after it), restart, then run `keygate vault rotate`.\n",
    );
    return 0;
  });
}

/** `keygate vault rotate`: rewraps every stored key under the active master key; prints `rewrapped N of M`. */
export function vaultRotate(args: string[], io: VaultCommandIo): Promise<number> {
  return run("vault rotate", "keygate vault rotate", io, async () => {
    parseFlags(args, []);
    const { keyring, warning } = await resolveKeyring(io.env, dataDirFrom(io.env));
    if (warning) io.stderr.write(`warning: ${warning}\n`);
    return withStore(io, async (store) => {
      const result = await createVault({ store, keyring, cache: { ttlMs: 0 } }).rotate();
      io.stdout.write(`rewrapped ${result.rewrapped} of ${result.total}\n`);
      for (const { user, provider, code } of result.failed) {
        io.stderr.write(`could not rewrap the ${provider} key of user ${JSON.stringify(user)}: ${code}\n`);
      }
      return result.failed.length === 0 ? 0 : 1;
    });
  });
}

/** `keygate keys put --user U --provider P [--policies FILE]`: stores the key read from stdin. */
export function keysPut(args: string[], io: VaultCommandIo): Promise<number> {
  const usage = "keygate keys put --user U --provider P [--policies FILE] < key.txt";
  return run("keys put", usage, io, async () => {
    const flags = parseFlags(args, ["user", "provider", "policies"]);
    const user = required(flags, "user");
    const provider = required(flags, "provider");
    const file = policiesPath(io.env, flags.policies);
    const loaded = await loadPolicyFile(file, io.env);
    if (!loaded.ok) {
      io.stderr.write(`keygate keys put: the policy file is invalid:\n${loaded.errors.join("\n")}\n`);
      return 1;
    }
    const target = loaded.policy.providers.get(provider);
    if (target === undefined) {
      const known = [...loaded.policy.providers.keys()].join(", ");
      throw new UsageError(`unknown provider ${JSON.stringify(provider)} (${file} defines: ${known})`);
    }
    const apiKey = await readSecretFromStdin(io.stdin);
    if (apiKey === "") throw new UsageError("no key on stdin; e.g. keygate keys put … < key.txt");
    if (apiKey.length > MAX_KEY_LENGTH || !target.keyPattern.test(apiKey)) {
      io.stderr.write(
        `keygate keys put: this does not look like a ${provider} API key ` +
          `(expected pattern ${target.keyPattern.source}, at most ${MAX_KEY_LENGTH} characters); nothing stored\n`,
      );
      return 1;
    }
    const { keyring, warning } = await resolveKeyring(io.env, dataDirFrom(io.env));
    if (warning) io.stderr.write(`warning: ${warning}\n`);
    return withStore(io, async (store) => {
      const info = await createVault({ store, keyring, cache: { ttlMs: 0 } }).put(user, provider, apiKey);
      io.stdout.write(`stored ${provider} key ${info.hint} for user ${JSON.stringify(user)}\n`);
      return 0;
    });
  });
}

/** `keygate keys list --user U [--json]`: hints and timestamps, never keys. */
export function keysList(args: string[], io: VaultCommandIo): Promise<number> {
  return run("keys list", "keygate keys list --user U [--json]", io, async () => {
    const flags = parseFlags(args, ["user"], ["json"]);
    const user = required(flags, "user");
    return withStore(io, async (store) => {
      const keys = [...(await store.list(user))]
        .map(([provider, record]) => toKeyInfo(provider, record))
        .sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0));
      io.stdout.write(flags.json === true ? `${JSON.stringify({ keys })}\n` : formatTable(keys));
      return 0;
    });
  });
}

/** `keygate keys rm --user U --provider P`: exit 1 when there was no such key. */
export function keysRm(args: string[], io: VaultCommandIo): Promise<number> {
  return run("keys rm", "keygate keys rm --user U --provider P", io, async () => {
    const flags = parseFlags(args, ["user", "provider"]);
    const user = required(flags, "user");
    const provider = required(flags, "provider");
    return withStore(io, async (store) => {
      if (await store.delete(user, provider)) {
        io.stdout.write(`removed the ${provider} key of user ${JSON.stringify(user)}\n`);
        return 0;
      }
      io.stderr.write(`keygate keys rm: user ${JSON.stringify(user)} has no ${provider} key\n`);
      return 1;
    });
  });
}

function formatTable(keys: readonly KeyInfo[]): string {
  if (keys.length === 0) return "no keys stored\n";
  const rows = [
    ["PROVIDER", "HINT", "CREATED_AT", "UPDATED_AT"],
    ...keys.map((k) => [k.provider, k.hint, k.created_at, k.updated_at]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => Array.from(r[i]!).length)));
  return rows
    .map((r) =>
      r.map((cell, i) => (i < 3 ? cell + " ".repeat(widths[i]! - Array.from(cell).length) : cell)).join("  "),
    )
    .join("\n")
    .concat("\n");
}

async function withStore(
  io: VaultCommandIo,
  fn: (store: Awaited<ReturnType<typeof openVaultStore>>["store"]) => Promise<number>,
): Promise<number> {
  const opened = await openVaultStore(io.env);
  try {
    return await fn(opened.store);
  } finally {
    await opened.close();
  }
}

/** One error boundary per command: usage errors exit 2, everything else 1; messages name no secret. */
async function run(
  name: string,
  usage: string,
  io: VaultCommandIo,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`keygate ${name}: ${error.message}\nusage: ${usage}\n`);
      return 2;
    }
    const detail =
      error instanceof VaultError ? `${error.message} (${error.code})` : (error as Error).message;
    io.stderr.write(`keygate ${name}: ${detail}\n`);
    return 1;
  }
}
