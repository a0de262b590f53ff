/**
 * keygate as the bench runs it: its own policy file pointing at the mock, the
 * process started per SPEC §1–2 with every listener on a free loopback port,
 * and one provider key stored per bench user through the key API.
 */
import { type ChildProcess, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { Pool, request } from "undici";
import { BENCH_AUDIENCE, BENCH_ISSUER, fakeProviderKey } from "./jwts.ts";
import { spawnPinned, stop } from "./procs.ts";

const run = promisify(execFile);

/** keygate's sources' entry point, relative to the repository root. */
const KEYGATE_SOURCE = "gateway/cli.ts";
/** What ships and what the bench measures: the compiled build (`npm run build`, as `npm start` and the image run). */
export const KEYGATE_CLI = "dist/gateway/cli.js";

/** True once the gateway's entry point exists in the tree. */
export function keygateAvailable(root: string): boolean {
  return existsSync(join(root, KEYGATE_SOURCE));
}

let built: Promise<unknown> | undefined;
/** Compiles the sources once per bench process, so the figures are never those of a stale build. */
function buildOnce(root: string): Promise<unknown> {
  built ??= run(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"], { cwd: root });
  return built;
}

/**
 * The V8 flags `npm start` runs keygate with (the image's ENTRYPOINT is tested
 * to match): the bench measures the heap configuration that ships.
 */
export function shippedNodeFlags(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    scripts?: { start?: string };
  };
  const start = pkg.scripts?.start ?? "";
  return start.split(/\s+/).filter((word) => word.startsWith("--"));
}

export interface BenchLimit {
  readonly name: string;
  readonly scope: string;
  readonly per: "user" | "global";
  readonly rate: string;
  readonly tokens?: string;
  readonly concurrent?: number;
}

/** Limits that never reject during a bench run but are all counted (user + provider quotas). */
export const GENEROUS_LIMITS: readonly BenchLimit[] = [
  { name: "user-requests", scope: "app", per: "user", rate: "1000000/1m" },
  { name: "openai-per-user", scope: "openai", per: "user", rate: "1000000/1m", tokens: "1000000000/1m" },
  { name: "openai-all-users", scope: "openai", per: "global", rate: "1000000000/1m" },
];

/** Writes a policy file whose app and openai provider are `mockUrl`; returns its path. */
export function writePolicy(dir: string, mockUrl: string, limits: readonly BenchLimit[]): string {
  const lines = [
    "version: 1",
    "auth:",
    "  algorithms: [HS256]",
    "  secret_env: KEYGATE_JWT_SECRET",
    `  issuer: ${BENCH_ISSUER}`,
    `  audience: ${BENCH_AUDIENCE}`,
    "upstreams:",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: policy-file syntax, expanded by keygate itself
    "  app: ${APP_URL:-http://127.0.0.1:8000}",
    "providers:",
    `  openai: { base_url: ${mockUrl}/v1, auth: bearer }`,
    "limits:",
    ...limits.flatMap((l) => [
      `  - name: ${l.name}`,
      `    scope: ${l.scope}`,
      `    per: ${l.per}`,
      `    rate: ${l.rate}`,
      ...(l.tokens ? [`    tokens: ${l.tokens}`] : []),
      ...(l.concurrent ? [`    concurrent: ${l.concurrent}`] : []),
    ]),
  ];
  const file = join(dir, "policies.yaml");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

export interface Keygate {
  readonly ingress: string;
  readonly egress: string;
  readonly admin: string;
  readonly child: ChildProcess;
  /** keygate's stdout (JSON log lines). */
  readonly logFile: string;
  /** Policy, data dir and log; remove after stopping. */
  readonly dir: string;
}

export interface KeygateOptions {
  readonly root: string;
  readonly mockUrl: string;
  readonly jwtSecret: string;
  /** Unset: embedded mode. */
  readonly redisUrl?: string;
  readonly limits?: readonly BenchLimit[];
  readonly cores?: string;
  /** Extra node flags, e.g. `--cpu-prof` to profile keygate under bench load. */
  readonly nodeArgs?: readonly string[];
}

/** Builds if needed, starts `node dist/gateway/cli.js serve` and waits for its `listening` line. */
export async function startKeygate(o: KeygateOptions): Promise<Keygate> {
  await buildOnce(o.root);
  const dir = mkdtempSync(join(tmpdir(), "keygate-bench-kg-"));
  const policies = writePolicy(dir, o.mockUrl, o.limits ?? GENEROUS_LIMITS);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env["PATH"],
    HOME: process.env["HOME"],
    KEYGATE_INGRESS: "127.0.0.1:0",
    KEYGATE_EGRESS: "127.0.0.1:0",
    KEYGATE_ADMIN: "127.0.0.1:0",
    KEYGATE_POLICIES: policies,
    KEYGATE_DATA_DIR: join(dir, "data"),
    KEYGATE_MASTER_KEYS: `bench-1:${randomBytes(32).toString("base64")}`,
    KEYGATE_JWT_SECRET: o.jwtSecret,
    APP_URL: o.mockUrl,
    // The product's default level: per-request access logs are part of what keygate costs.
    LOG_LEVEL: process.env["BENCH_KEYGATE_LOG_LEVEL"] ?? "info",
    ...(o.redisUrl ? { REDIS_URL: o.redisUrl } : {}),
  };
  // Logs go to a file, as to a collector in production: the bench's own process must not parse them.
  const logFile = join(dir, "keygate.log");
  const out = openSync(logFile, "w");
  const child = spawnPinned(
    o.cores,
    process.execPath,
    [...shippedNodeFlags(o.root), ...(o.nodeArgs ?? []), resolve(o.root, KEYGATE_CLI), "serve"],
    {
      cwd: dir,
      env,
      stdio: ["ignore", out, "pipe"],
    },
  );
  closeSync(out);
  let line: Record<string, unknown>;
  try {
    line = await listeningLine(child, logFile);
  } catch (err) {
    await stop(child);
    throw err;
  }
  const url = (k: string) => {
    const v = line[k];
    if (typeof v !== "string")
      throw new Error(`keygate's listening line has no "${k}" URL: ${JSON.stringify(line)}`);
    return v;
  };
  try {
    const kg = { ingress: url("ingress"), egress: url("egress"), admin: url("admin"), child, logFile, dir };
    await waitReady(kg.admin);
    return kg;
  } catch (err) {
    await stop(child);
    throw err;
  }
}

/** Waits for the JSON `listening` line in keygate's log file. */
async function listeningLine(
  child: ChildProcess,
  logFile: string,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4_000);
  });
  for (;;) {
    const text = readFileSync(logFile, "utf8");
    for (const line of text.split("\n")) {
      if (!line.includes('"listening"')) continue;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed["msg"] === "listening") return parsed;
    }
    const why =
      child.exitCode !== null
        ? `exited with code ${child.exitCode}`
        : Date.now() > deadline
          ? `printed no "listening" line within ${timeoutMs} ms`
          : "";
    if (why) throw new Error(`keygate ${why}; output:\n${text.slice(-2_000)}${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Polls `GET {admin}/readyz` until 200: `listening` means the sockets are
 * bound, not that the store is connected, and the first requests would get 503.
 */
async function waitReady(admin: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  for (;;) {
    try {
      const res = await request(`${admin}/readyz`);
      last = `${res.statusCode} ${(await res.body.text()).slice(0, 200)}`;
      if (res.statusCode === 200) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline)
      throw new Error(`keygate was not ready within ${timeoutMs} ms: /readyz said ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stores a fresh fake openai key for every token's user via `PUT /_keygate/keys/openai`, 32 at a time. */
export async function storeKeys(ingress: string, tokens: readonly string[]): Promise<void> {
  const pool = new Pool(ingress, { connections: 32 });
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) {
      const token = tokens[next++]!;
      const res = await pool.request({
        method: "PUT",
        path: "/_keygate/keys/openai",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ api_key: fakeProviderKey() }),
      });
      const text = await res.body.text();
      if (res.statusCode !== 200)
        throw new Error(`storing a key failed: ${res.statusCode} ${text.slice(0, 300)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: 32 }, worker));
  } finally {
    await pool.close();
  }
}
