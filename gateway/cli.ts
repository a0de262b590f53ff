#!/usr/bin/env node
/**
 * `keygate` command line (SPEC §1). Each command returns an exit code; only
 * this file touches `process` (signals, exit, stdio).
 */
import { parseArgs } from "node:util";
import { formatWarning, loadPolicyFile } from "../policies/load.ts";
import { formatLimitsTable } from "../policies/table.ts";
import { tokenCommand } from "./cli/token-command.ts";
import { keygen, keysList, keysPut, keysRm, vaultRotate } from "./cli/vault-commands.ts";
import { ConfigError, policiesPath } from "./config/env.ts";
import { type Gateway, StartupError, startGateway } from "./main.ts";

const USAGE = `usage:
  keygate serve [--policies FILE]    run the gateway
  keygate check [FILE]               validate a policy file and print its effective limits
  keygate keygen                     print a new master key (ID:BASE64)
  keygate vault rotate               re-encrypt every stored key under the active master key
  keygate keys put --user U --provider P   store a key (read from stdin)
  keygate keys list --user U
  keygate keys rm --user U --provider P
  keygate token --user U [--tier T] [--ttl 15m]   mint a JWT with the policy's HS* secret (dev, jobs)`;

const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { policies: { type: "string" } } });
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      env: process.env,
      ...(values.policies ? { policiesFile: values.policies } : {}),
    });
  } catch (err) {
    if (err instanceof StartupError || err instanceof ConfigError) {
      process.stderr.write(`keygate: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let stopping = false;
  const stop = () => {
    // A second signal means "now": skip the drain.
    if (stopping) process.exit(1);
    stopping = true;
    void gateway.shutdown().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("SIGHUP", () => void gateway.reload());
  return new Promise<number>(() => {});
}

async function check(args: string[]): Promise<number> {
  const file = policiesPath(process.env, args[0]);
  const result = await loadPolicyFile(file, process.env);
  if (!result.ok) {
    for (const error of result.errors) process.stderr.write(`${error}\n`);
    return 1;
  }
  for (const warning of result.warnings) process.stderr.write(`warning: ${formatWarning(warning)}\n`);
  process.stdout.write(`${formatLimitsTable(result.policy)}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case "serve":
      return serve(argv.slice(1));
    case "check":
      return check(argv.slice(1));
    case "token":
      return tokenCommand(argv.slice(1), io);
    case "keygen":
      return keygen(argv.slice(1), io);
    case "vault":
      if (sub === "rotate") return vaultRotate(rest, io);
      break;
    case "keys":
      if (sub === "put") return keysPut(rest, io);
      if (sub === "list") return keysList(rest, io);
      if (sub === "rm") return keysRm(rest, io);
      break;
    case undefined:
    case "help":
    case "--help":
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
  }
  process.stderr.write(`keygate: unknown command "${argv.join(" ")}"\n${USAGE}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`keygate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
