/**
 * Tells the gateway when the policy file's content changes. Watches the
 * directory, not the inode, so editors' rename-on-save and Kubernetes/ECS
 * config mounts (a `..data` symlink swapped for a new one) are seen; a cheap
 * stat/realpath poll covers filesystems where `fs.watch` is blind (NFS,
 * some container overlays). Events only trigger a content-hash comparison, so
 * touching or rewriting the same bytes never fires.
 */
import { createHash } from "node:crypto";
import { type FSWatcher, readFileSync, realpathSync, type Stats, statSync, watch } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

export interface PolicyWatcher {
  close(): void;
}

export interface WatchOptions {
  /** Quiet time after the last event before the file is read; default 100 ms. */
  readonly debounceMs?: number;
  /** Interval of the fallback stat/realpath poll; default 1000 ms. */
  readonly pollMs?: number;
  /** `false`: poll only, for filesystems where directory watches misreport (some network mounts). Default true. */
  readonly fsWatch?: boolean;
}

const hashOf = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

const signatureOf = (real: string, st: Stats) => `${real}:${st.ino}:${st.size}:${st.mtimeMs}`;

function readSignature(file: string): string {
  try {
    return signatureOf(realpathSync(file), statSync(file));
  } catch {
    return "missing";
  }
}

function readHash(file: string): string | undefined {
  try {
    return hashOf(readFileSync(file));
  } catch {
    return undefined; // Not there yet: its first appearance counts as a change.
  }
}

/**
 * Calls `onChange` (debounced) whenever `file`'s bytes differ from the last seen.
 * Example: `const w = watchPolicyFile("policies.yaml", () => void reloader.reload()); … w.close();`
 */
export function watchPolicyFile(
  file: string,
  onChange: () => void,
  options: WatchOptions = {},
): PolicyWatcher {
  const debounceMs = options.debounceMs ?? 100;
  const pollMs = options.pollMs ?? 1000;
  if (!(debounceMs >= 0 && pollMs > 0))
    throw new Error("watchPolicyFile: debounceMs ≥ 0 and pollMs > 0 required");
  const path = resolve(file);
  let lastHash = readHash(path);
  // Taken now, not at the first poll, so a change made right after start is not mistaken for the baseline.
  let lastStat = readSignature(path);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const compare = async () => {
    let hash: string;
    try {
      hash = hashOf(await readFile(path));
    } catch {
      return; // Mid-swap or deleted: keep the running policy until a readable file appears.
    }
    if (closed || hash === lastHash) return;
    lastHash = hash;
    onChange();
  };
  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void compare(), debounceMs);
    timer.unref();
  };

  let watcher: FSWatcher | undefined;
  if (options.fsWatch !== false) {
    try {
      watcher = watch(dirname(path), { persistent: false }, schedule);
      // A watch that dies (directory removed, inotify limits) leaves the poll in charge.
      watcher.on("error", () => watcher?.close());
    } catch {
      watcher = undefined;
    }
  }

  const poll = setInterval(async () => {
    try {
      const [real, st] = await Promise.all([realpath(path), stat(path)]);
      const signature = signatureOf(real, st);
      if (signature !== lastStat) schedule();
      lastStat = signature;
    } catch {
      // Missing for now; the next successful stat schedules a comparison.
      lastStat = "missing";
    }
  }, pollMs);
  poll.unref();

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(poll);
      watcher?.close();
    },
  };
}
