/**
 * The image, without a Docker engine: lay out what the Dockerfile's runtime
 * stage copies (the compiled build, policy, production dependencies only) in a temp
 * "image root", then run its ENTRYPOINT + CMD with its ENV from /app, the
 * HEALTHCHECK command against it, and SIGTERM. This catches a runtime import
 * of a dev dependency or of a file the image does not copy, and a health check
 * or entrypoint that does not work; it cannot catch base-image problems.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { execForm, type Instruction, parseDockerfile, REPO_DIR, readRepo } from "./deploy-files.ts";

const run = promisify(execFile);
const NODE_IN_IMAGE = "/nodejs/bin/node";

const POLICY = `version: 1
auth:
  algorithms: [HS256]
  secret_env: KEYGATE_JWT_SECRET
upstreams:
  app: http://127.0.0.1:9
limits: []
`;

interface Image {
  readonly root: string;
  readonly workdir: string;
  readonly env: Record<string, string>;
  readonly start: string[];
  readonly healthcheck: string[];
}

/** `ENV A=1 B=2` (continuations already joined) as pairs. */
function envPairs(args: string): [string, string][] {
  return args.split(/\s+/).map((pair) => pair.split("=", 2) as [string, string]);
}

/** Production packages as npm resolves them for `npm ci --omit=dev`, relative to the repo. */
async function productionPackages(): Promise<string[]> {
  const { stdout } = await run("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: REPO_DIR });
  return stdout
    .split("\n")
    .filter((p) => p.includes("node_modules"))
    .map((p) => relative(REPO_DIR, p));
}

async function buildImage(instructions: Instruction[]): Promise<Image> {
  const stage = Math.max(...instructions.map((i) => i.stage));
  const rt = instructions.filter((i) => i.stage === stage);
  const root = await mkdtemp(join(tmpdir(), "keygate-image-"));
  const workdir = join(root, rt.find((i) => i.keyword === "WORKDIR")?.args ?? "/");
  const inImage = (path: string) => (isAbsolute(path) ? join(root, path) : join(workdir, path));
  for (const copy of rt.filter((i) => i.keyword === "COPY")) {
    const parts = copy.args.split(/\s+/);
    const dest = parts.at(-1) as string;
    if (parts[0]?.startsWith("--from=")) {
      const stage = parts[0].slice("--from=".length);
      if (stage === "deps") {
        for (const pkg of await productionPackages()) {
          await cp(join(REPO_DIR, pkg), join(workdir, pkg), { recursive: true, dereference: true });
        }
      } else if (stage === "build") {
        // The build stage's `npm run build`, written straight to where the runtime stage puts it.
        await run(
          join(REPO_DIR, "node_modules/.bin/tsc"),
          ["-p", "tsconfig.build.json", "--outDir", inImage(dest)],
          {
            cwd: REPO_DIR,
          },
        );
      } else {
        throw new Error(`COPY from an unknown stage: ${copy.args}`);
      }
      continue;
    }
    for (const source of parts.slice(0, -1)) {
      const target = dest.endsWith("/") || parts.length > 2 ? join(inImage(dest), source) : inImage(dest);
      await mkdir(dirname(target), { recursive: true });
      await cp(join(REPO_DIR, source), target, { recursive: true });
    }
  }
  const env: Record<string, string> = {};
  for (const i of rt.filter((x) => x.keyword === "ENV")) for (const [k, v] of envPairs(i.args)) env[k] = v;
  if (env["KEYGATE_POLICIES"]) env["KEYGATE_POLICIES"] = inImage(env["KEYGATE_POLICIES"]);
  const entrypoint = execForm(rt.find((i) => i.keyword === "ENTRYPOINT")?.args ?? "") ?? [];
  const cmd = execForm(rt.find((i) => i.keyword === "CMD")?.args ?? "") ?? [];
  const hc = rt.find((i) => i.keyword === "HEALTHCHECK")?.args ?? "";
  const healthcheck = execForm(hc.slice(hc.indexOf("CMD ") + 4)) ?? [];
  return { root, workdir, env, start: [...entrypoint, ...cmd], healthcheck };
}

/** Runs an image command with this machine's node in place of the image's. */
function imageArgv(argv: string[]): [string, string[]] {
  expect(argv[0]).toBe(NODE_IN_IMAGE);
  return [process.execPath, argv.slice(1)];
}

async function healthcheck(image: Image, admin: string): Promise<number> {
  const [cmd, args] = imageArgv(image.healthcheck);
  try {
    await run(cmd, args, { env: { KEYGATE_ADMIN: admin }, cwd: image.workdir });
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

describe("the image's runtime stage, run without Docker", () => {
  let image: Image;
  let redis: RedisServer;
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let admin = "";

  beforeAll(async () => {
    image = await buildImage(parseDockerfile(await readRepo("Dockerfile")));
    // The deployment mounts its own policy read-only over the default one.
    const policyFile = image.env["KEYGATE_POLICIES"] as string;
    await writeFile(policyFile, POLICY);
    await chmod(policyFile, 0o444);
    redis = await startRedis(["--maxmemory-policy", "noeviction"]);
    const [cmd, args] = imageArgv(image.start);
    child = spawn(cmd, args, {
      cwd: image.workdir,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...image.env,
        KEYGATE_INGRESS: "127.0.0.1:0",
        KEYGATE_EGRESS: "127.0.0.1:0",
        KEYGATE_ADMIN: "127.0.0.1:0",
        KEYGATE_DRAIN_TIMEOUT: "2",
        REDIS_URL: redis.url,
        KEYGATE_MASTER_KEYS: `test:${randomBytes(32).toString("base64")}`,
        KEYGATE_JWT_SECRET: randomBytes(32).toString("hex"),
      },
    });
    exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    let out = "";
    let err = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    admin = await new Promise<string>((resolve, reject) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split("\n").find((l) => l.includes('"msg":"listening"'));
        if (line) resolve(new URL((JSON.parse(line) as { admin: string }).admin).host);
      });
      void exited.then((code) => reject(new Error(`image command exited ${code} before listening: ${err}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await redis?.stop();
    if (image) await rm(image.root, { recursive: true, force: true });
  });

  it("starts with the image's ENTRYPOINT and CMD from its WORKDIR, with production dependencies only", async () => {
    expect(image.start).toEqual([NODE_IN_IMAGE, "--max-semi-space-size=8", "dist/gateway/cli.js", "serve"]);
    // Compiled JavaScript only: no TypeScript source (and so no type stripping) in the image.
    const shipped = (await readdir(image.workdir, { recursive: true })).filter(
      (f) => !f.startsWith("node_modules"),
    );
    expect(shipped.filter((f) => f.endsWith(".ts"))).toEqual([]);
    expect(shipped).toContain(join("dist", "gateway", "cli.js"));
    const ready = await fetch(`http://${admin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ store: "ok" });
  });

  it("passes the image's HEALTHCHECK, which fails when nothing answers", async () => {
    expect(await healthcheck(image, admin)).toBe(0);
    expect(await healthcheck(image, "127.0.0.1:1")).toBe(1);
  });

  it("drains and exits 0 on SIGTERM sent to the node process itself", async () => {
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
