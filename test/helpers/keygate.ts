/**
 * keygate under test: in-process (`startKeygate`, logs captured) or as a real
 * child process (`spawnKeygate`, for multi-instance, signal and crash tests).
 * Each gets its own temp dir with the policy file and the embedded data dir.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Gateway, startGateway } from "../../gateway/main.ts";
import { captureLogs } from "./log-sink.ts";

const CLI = resolve(import.meta.dirname, "../../gateway/cli.ts");

/** A compact JWT, or a bearer credential, anywhere in a log line is a leak. */
const LEAKED_CREDENTIAL = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.|Bearer [A-Za-z0-9._~+/-]{8,}/;

/**
 * Every gateway a test starts is checked when it stops: its logs hold no JWT
 * and no Authorization value — so the whole suite's logs are covered.
 */
export function assertNoCredentialsLogged(logs: string, where: string): void {
  const leak = LEAKED_CREDENTIAL.exec(logs);
  if (leak)
    throw new Error(
      `${where} logged a credential: …${logs.slice(Math.max(0, leak.index - 80), leak.index + 20)}…`,
    );
}

export interface Urls {
  readonly ingress: string;
  readonly egress: string;
  readonly admin: string;
}

/** A fresh master key for tests: `test:` + 32 random bytes. */
export function testMasterKey(id = "test"): string {
  return `${id}:${randomBytes(32).toString("base64")}`;
}

export async function writePolicy(text: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), "keygate-test-"));
  const file = join(dir, "policies.yaml");
  await writeFile(file, text);
  return { dir, file };
}

function baseEnv(dir: string, file: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    KEYGATE_INGRESS: "127.0.0.1:0",
    KEYGATE_EGRESS: "127.0.0.1:0",
    KEYGATE_ADMIN: "127.0.0.1:0",
    KEYGATE_POLICIES: file,
    KEYGATE_DATA_DIR: join(dir, "data"),
    KEYGATE_DRAIN_TIMEOUT: "5",
    ...env,
  };
}

export interface InProcessKeygate {
  readonly urls: Urls;
  readonly gateway: Gateway;
  readonly policyFile: string;
  /** Every log line so far, as text (for secret greps) and parsed. */
  logText(): string;
  logLines(): Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startKeygate(policy: string, env: NodeJS.ProcessEnv = {}): Promise<InProcessKeygate> {
  const { dir, file } = await writePolicy(policy);
  const logs = captureLogs();
  const gateway = await startGateway({ env: baseEnv(dir, file, env), logDestination: logs.destination });
  return {
    urls: gateway.urls,
    gateway,
    policyFile: file,
    logText: () => logs.text(),
    logLines: () => logs.lines() as Record<string, unknown>[],
    async stop() {
      await gateway.shutdown();
      await rm(dir, { recursive: true, force: true });
      assertNoCredentialsLogged(logs.text(), "in-process keygate");
    },
  };
}

export interface KeygateProcess {
  readonly urls: Urls;
  readonly child: ChildProcess;
  readonly policyFile: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `node gateway/cli.ts serve` and waits for its `listening` line. */
export async function spawnKeygate(
  policy: string | { file: string; dir: string },
  env: NodeJS.ProcessEnv = {},
): Promise<KeygateProcess> {
  const { dir, file } = typeof policy === "string" ? await writePolicy(policy) : policy;
  const child = spawn(process.execPath, [CLI, "serve"], {
    env: { PATH: process.env["PATH"], ...baseEnv(dir, file, env) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  const urls = await new Promise<Urls>((resolveUrls, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split("\n")) {
        if (!line.includes('"msg":"listening"')) continue;
        const parsed = JSON.parse(line) as Urls;
        resolveUrls({ ingress: parsed.ingress, egress: parsed.egress, admin: parsed.admin });
      }
    });
    void exited.then((code) => reject(new Error(`keygate exited with ${code} before listening: ${err}`)));
  });
  return {
    urls,
    child,
    policyFile: file,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      assertNoCredentialsLogged(out + err, "keygate process");
      return code;
    },
  };
}
