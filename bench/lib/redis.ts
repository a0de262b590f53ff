/**
 * A dedicated, throwaway redis-server for the bench, pinned with the load
 * generator (never the shared one on 6379, whose load and contents are not ours).
 */
import type { ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, spawnPinned } from "./procs.ts";

const run = promisify(execFile);

export interface BenchRedis {
  readonly url: string;
  readonly child: ChildProcess;
  /** Its working directory; remove after stopping. */
  readonly dir: string;
}

/** Starts redis-server on a free loopback port without persistence and waits for PONG. */
export async function startBenchRedis(cores: string | undefined): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "keygate-bench-redis-"));
  const child = spawnPinned(
    cores,
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    try {
      const { stdout } = await run("redis-cli", ["-p", String(port), "ping"]);
      if (stdout.trim() === "PONG") return { url: `redis://127.0.0.1:${port}`, child, dir };
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer PING within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
