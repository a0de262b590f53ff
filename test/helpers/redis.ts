/**
 * Real Redis servers for tests: a fresh `redis-server` on a free port, which a
 * test can stop, kill and restart on the same port (fault tests), or a Redis
 * Cluster of several such servers. Never a mock.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function waitForPing(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { stdout } = await run("redis-cli", ["-p", String(port), "ping"]);
      if (stdout.trim() === "PONG") return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: an outage as the gateway sees it. */
  kill(): Promise<void>;
  /** Start again on the same port (empty: nothing is persisted). */
  start(): Promise<void>;
  /** Stop for good and remove its directory. */
  stop(): Promise<void>;
  cli(...args: string[]): Promise<string>;
}

/**
 * A fresh Redis: a `redis-server` process when it is on PATH (CI, these
 * machines), else a container through testcontainers when a Docker engine
 * answers (a laptop without Redis installed).
 */
export async function startRedis(extraArgs: readonly string[] = []): Promise<RedisServer> {
  if ((await redisBackend()) === "container") {
    const { startRedisContainer } = await import("./redis-container.ts");
    return startRedisContainer(await freePort(), extraArgs);
  }
  return startRedisProcess(extraArgs);
}

let backend: Promise<"process" | "container"> | undefined;

function redisBackend(): Promise<"process" | "container"> {
  backend ??= (async () => {
    try {
      await run("redis-server", ["--version"]);
      return "process";
    } catch {
      const { getContainerRuntimeClient } = await import("testcontainers");
      try {
        await getContainerRuntimeClient();
        return "container";
      } catch {
        throw new Error(
          "the tests need Redis: install redis-server (apt-get install redis-server) or start a Docker engine",
        );
      }
    }
  })();
  return backend;
}

async function startRedisProcess(extraArgs: readonly string[]): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "keygate-redis-"));
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        ...extraArgs,
      ],
      { stdio: "ignore" },
    );
    await waitForPing(port);
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill("SIGKILL");
    });
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
    async cli(...args: string[]) {
      const { stdout } = await run("redis-cli", ["-p", String(port), ...args]);
      return stdout.trim();
    },
  };
}

export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** `host:port` seeds, as `REDIS_CLUSTER_NODES` takes them. */
  readonly seeds: string;
  stop(): Promise<void>;
}

/**
 * A cluster of `masters` masters (no replicas) that keeps serving the slots of
 * live masters when one dies (`cluster-require-full-coverage no`), so killing
 * one is a partial outage.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  if ((await redisBackend()) === "container") {
    // Cluster nodes announce their own addresses, which a container's are not from the host.
    throw new Error("Redis Cluster tests need redis-server on PATH (apt-get install redis-server)");
  }
  const nodes: RedisServer[] = [];
  for (let i = 0; i < masters; i++) {
    nodes.push(
      await startRedis([
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        `nodes-${i}.conf`,
        "--cluster-node-timeout",
        "1000",
        "--cluster-require-full-coverage",
        "no",
      ]),
    );
  }
  const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
  await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const states = await Promise.all(nodes.map((n) => n.cli("cluster", "info")));
    if (states.every((s) => s.includes("cluster_state:ok"))) break;
    if (Date.now() > deadline) throw new Error("redis cluster did not reach cluster_state:ok");
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    nodes,
    seeds: addresses.join(","),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
