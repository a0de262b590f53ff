/**
 * The orchestrator's side of the load generator: forks `bench/loadgen.ts`,
 * pins it with the mock and Redis, and turns its IPC messages into promises.
 */
import { fork } from "node:child_process";
import { join } from "node:path";
import type { LoadgenReply, LoadgenRequest, LoadJob } from "../loadgen.ts";
import type { RunResult } from "./load.ts";
import { pinRunning, stop } from "./procs.ts";

export interface LoadgenClient {
  readonly pid: number;
  /** Sets the JWTs rotated through every following job. */
  tokens(tokens: readonly string[]): Promise<void>;
  run(job: LoadJob): Promise<RunResult>;
  close(): Promise<void>;
}

/** Starts the generator process; `cores` pins it (and every thread it has) when set. */
export function startLoadgen(root: string, cores: string | undefined): LoadgenClient {
  // Forking through `taskset` would lose the IPC channel, so the child is pinned once it runs.
  const child = fork(join(root, "bench/loadgen.ts"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  if (child.pid === undefined) throw new Error("the load generator did not start");
  if (cores !== undefined) pinRunning(child.pid, cores);
  let next = 0;
  const waiting = new Map<number, (r: LoadgenReply) => void>();
  child.on("message", (r: LoadgenReply) => {
    waiting.get(r.id)?.(r);
    waiting.delete(r.id);
  });
  const call = (msg: LoadgenRequest) =>
    new Promise<LoadgenReply>((resolve, reject) => {
      waiting.set(msg.id, resolve);
      child.send(msg, (err) => err && reject(err));
    });
  return {
    pid: child.pid,
    async tokens(tokens) {
      await call({ id: next++, tokens: [...tokens] });
    },
    async run(job) {
      const reply = await call({ id: next++, job });
      if (reply.error !== undefined || reply.result === undefined)
        throw new Error(`load generator: ${reply.error}`);
      return reply.result;
    },
    async close() {
      if (child.connected) child.disconnect();
      await stop(child);
    },
  };
}
