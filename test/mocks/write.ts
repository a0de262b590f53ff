/** Writes a mock's reply: pacing, a key split across transport chunks, hangs. */
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { MockBehaviour, MockReply } from "./types.ts";

/** Long enough that the two halves of a split key leave as separate TCP segments and reads. */
const SPLIT_PAUSE_MS = 20;

function untilGone(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || res.destroyed) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
    res.once("close", () => resolve());
  });
}

async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Resolves when the last byte is written, or when the answer was cut short (hang, close, client abort). */
export async function writeReply(
  res: ServerResponse,
  reply: MockReply,
  behaviour: MockBehaviour,
  key: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  if (behaviour.hang === "headers") {
    await untilGone(res, signal);
    res.destroy();
    return;
  }
  res.socket?.setNoDelay(true);
  res.writeHead(reply.status, reply.headers);
  res.flushHeaders();
  const delay = reply.stream ? (behaviour.chunkDelayMs ?? 0) : 0;
  // A single-chunk body that should stall mid-way is cut in two, so the client has started reading.
  const only = reply.chunks.length === 1 ? reply.chunks[0]! : undefined;
  const chunks =
    behaviour.hang === "body" && only !== undefined
      ? [only.slice(0, only.length >> 1), only.slice(only.length >> 1)]
      : reply.chunks;
  for (const [i, chunk] of chunks.entries()) {
    if (i > 0 && behaviour.hang === "body") {
      await untilGone(res, signal);
      res.destroy();
      return;
    }
    if (i > 0 && delay > 0 && !(await pause(delay, signal))) return void res.destroy();
    if (res.destroyed) return;
    const at = behaviour.keyInBody && key ? chunk.indexOf(key) : -1;
    if (at === -1) {
      res.write(chunk);
      continue;
    }
    const cut = at + Math.ceil(key!.length / 2);
    res.write(chunk.slice(0, cut));
    if (!(await pause(Math.max(delay, SPLIT_PAUSE_MS), signal))) return void res.destroy();
    res.write(chunk.slice(cut));
  }
  res.end();
}
