/**
 * Child processes for the bench: spawned pinned to a core with `taskset` when
 * the machine allows it, awaited until they print their JSON `listening` line,
 * measured through `/proc`, and stopped by their own pid.
 */
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";

/** Cores to pin to, or null when pinning is impossible (one core, or no taskset). */
export function pinningPlan(): { proxy: string; rest: string } | null {
  if (availableParallelism() < 2) return null;
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore" });
  } catch {
    return null;
  }
  const last = availableParallelism() - 1;
  return { proxy: "0", rest: last === 1 ? "1" : `1-${last}` };
}

/** Spawns `cmd args`, under `taskset -c cores` when `cores` is set; taskset execs, so the pid is the program's. */
export function spawnPinned(
  cores: string | undefined,
  cmd: string,
  args: readonly string[],
  opts: SpawnOptions,
): ChildProcess {
  return cores === undefined ? spawn(cmd, args, opts) : spawn("taskset", ["-c", cores, cmd, ...args], opts);
}

/** Pins a running process and all its threads (V8 and libuv workers included) to `cores`. */
export function pinRunning(pid: number, cores: string): void {
  execFileSync("taskset", ["-a", "-p", "-c", cores, String(pid)], { stdio: "ignore" });
}

/**
 * Resolves with the first stdout JSON line whose `msg` is `listening`; the
 * rest of stdout is drained (and kept in `tail` for error messages).
 */
export function waitForListening(
  child: ChildProcess,
  what: string,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>> {
  const tail: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(`did not print a "listening" line within ${timeoutMs} ms`),
      timeoutMs,
    );
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`${what} ${why}; last output:\n${tail.join("\n")}`));
    };
    const onExit = (code: number | null) => fail(`exited with code ${code}`);
    child.once("exit", onExit);
    const onStderr = (c: Buffer) => {
      if (tail.push(c.toString().trimEnd()) > 20) tail.shift();
    };
    child.stderr?.on("data", onStderr);
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (tail.push(line) > 20) tail.shift();
      if (!line.includes('"listening"')) return;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed["msg"] !== "listening") return;
        clearTimeout(timer);
        child.off("exit", onExit);
        child.stderr?.off("data", onStderr);
        child.stderr?.resume();
        resolve(parsed);
      } catch {
        // not JSON: keep waiting
      }
    });
  });
}

/**
 * Logs, with its last output lines, a child that exits before the bench
 * stops it (a crash mid-run would otherwise only show as refused connections).
 * Returns the disarm function to call before a deliberate stop.
 */
export function watchExit(child: ChildProcess, what: string, log: (line: string) => void): () => void {
  const tail: string[] = [];
  const keep = (c: Buffer) => {
    for (const line of c.toString().split("\n")) {
      if (line && tail.push(line) > 20) tail.shift();
    }
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
    log(
      `${what} (pid ${child.pid}) exited during the bench: code ${code}, signal ${signal}; last output:\n${tail.join("\n")}`,
    );
  child.once("exit", onExit);
  return () => child.off("exit", onExit);
}

/** Peak resident set (VmHWM) of a process and its direct children, in MiB; NaN when unreadable. */
export function peakRssMiB(pid: number): number {
  const hwm = (p: number) => {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  };
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    return (hwm(pid) + children.reduce((sum, c) => sum + hwm(Number(c)), 0)) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Current resident set (VmRSS) in MiB; NaN when unreadable. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export function stop(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** A TCP port free on 127.0.0.1 right now (for programs that cannot bind port 0 and report it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
