import { randomBytes } from "node:crypto";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { StoreUnavailableError } from "../errors.ts";

export interface FileLockOptions {
  /** A lock older than this is taken over (its holder crashed or hung). Default 10 s. */
  staleMs?: number;
  /** Give up waiting after this long. Default 5 s. */
  timeoutMs?: number;
}

/** Runs `fn` while holding the lock; releases it afterwards, also on error. */
export type WithLock = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * An exclusive lock between processes on one host (CLI and server sharing a
 * data dir): a lock file created with `O_EXCL`, holding `pid host time token`.
 * A holder that died (pid gone on this host) or held it past `staleMs` is
 * taken over; waiting is bounded by `timeoutMs`, then StoreUnavailableError.
 *
 * @example const withLock = createFileLock(`${dir}/vault.json.lock`)
 */
export function createFileLock(path: string, options: FileLockOptions = {}): WithLock {
  const staleMs = options.staleMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  if (!(staleMs > 0) || !(timeoutMs > 0)) throw new Error("file lock: staleMs and timeoutMs must be > 0");
  const host = hostname();

  async function acquire(): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const token = `${process.pid} ${host} ${Date.now()} ${randomBytes(6).toString("hex")}\n`;
      try {
        const handle = await open(path, "wx", 0o600);
        try {
          await handle.writeFile(token);
        } catch (error) {
          await unlink(path).catch(() => undefined); // an empty lock would block others until stale
          throw error;
        } finally {
          await handle.close();
        }
        return token;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
          throw new StoreUnavailableError("vault file lock", { cause: error });
        }
      }
      if (await takeOverIfStale()) continue;
      if (Date.now() > deadline) {
        throw new StoreUnavailableError(`vault file lock (${path} held for over ${timeoutMs} ms)`);
      }
      // Jittered, growing waits: two waiters rarely collide again.
      await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 2) * (0.5 + Math.random())));
    }
  }

  async function takeOverIfStale(): Promise<boolean> {
    let seen: string;
    let ageMs: number;
    try {
      [seen, ageMs] = await Promise.all([
        readFile(path, "utf8"),
        stat(path).then((s) => Date.now() - s.mtimeMs),
      ]);
    } catch {
      return true; // released meanwhile: try again at once
    }
    if (!isStale(seen, ageMs)) return false;
    // Move it aside atomically, then check we moved the lock we judged stale:
    // if another process replaced it in between, put theirs back.
    const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await rename(path, aside);
    } catch {
      return true;
    }
    const moved = await readFile(aside, "utf8").catch(() => "");
    if (moved !== seen) await link(aside, path).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    return true;
  }

  function isStale(content: string, ageMs: number): boolean {
    if (ageMs > staleMs) return true;
    const [pid, lockHost] = content.split(" ");
    if (lockHost !== host || pid === undefined) return false;
    try {
      process.kill(Number(pid), 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ESRCH";
    }
  }

  async function release(token: string): Promise<void> {
    // Only remove our own lock: after a takeover it may belong to someone else.
    const current = await readFile(path, "utf8").catch(() => undefined);
    if (current === token) await unlink(path).catch(() => undefined);
  }

  return async (fn) => {
    const token = await acquire();
    try {
      return await fn();
    } finally {
      await release(token);
    }
  };
}
