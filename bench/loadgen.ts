/**
 * The load generator as its own process (pinned away from the proxy under
 * test), driven over the IPC channel by `bench/run.ts`:
 *   → `{ id, tokens }` sets the JWTs rotated through the next jobs
 *   → `{ id, job }` runs one closed- or open-loop job
 *   ← `{ id, result }` or `{ id, error }`
 */
import { closedLoop, type LoadTarget, openLoop, type RunResult } from "./lib/load.ts";

export type LoadJob =
  | {
      readonly kind: "closed";
      readonly target: LoadTarget;
      readonly connections: number;
      readonly durationMs: number;
      readonly rampMs: number;
    }
  | {
      readonly kind: "open";
      readonly target: LoadTarget;
      readonly rate: number;
      readonly durationMs: number;
      readonly connections: number;
    };

export type LoadgenRequest = { id: number; tokens: string[] } | { id: number; job: LoadJob };
export type LoadgenReply = { id: number; result?: RunResult; error?: string };

/** Runs one job. */
export function runJob(job: LoadJob, tokens: readonly string[]): Promise<RunResult> {
  return job.kind === "closed" ? closedLoop(job.target, tokens, job) : openLoop(job.target, tokens, job);
}

if (import.meta.main) {
  if (!process.send)
    throw new Error("bench/loadgen.ts runs as a child of bench/run.ts (needs an IPC channel)");
  let tokens: string[] = [];
  // One job at a time: jobs are awaited in order so two never overlap.
  let queue = Promise.resolve();
  process.on("message", (msg: LoadgenRequest) => {
    queue = queue.then(async () => {
      let reply: LoadgenReply;
      if ("tokens" in msg) {
        tokens = msg.tokens;
        reply = { id: msg.id };
      } else {
        try {
          reply = { id: msg.id, result: await runJob(msg.job, tokens) };
        } catch (err) {
          reply = { id: msg.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
        }
      }
      process.send!(reply);
    });
  });
  process.on("disconnect", () => process.exit(0));
}
