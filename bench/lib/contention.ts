/**
 * How much of the machine something other than the bench used during a run.
 * On a shared box (CI, other test suites) a busy neighbour on the proxy's core
 * silently halves its req/s; the bench measures that share per run, retries
 * runs that were disturbed, and reports it instead of hiding it.
 */
import { readFileSync } from "node:fs";

function readOr(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** Busy and total jiffies of the whole machine, from `/proc/stat`. */
function machine(): { busy: number; total: number } | null {
  const text = readOr("/proc/stat");
  if (text === null) return null;
  const fields = text.slice(0, text.indexOf("\n")).trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** utime + stime of `pid` and, recursively, its children (nginx workers). */
function processTree(pid: number): number {
  const stat = readOr(`/proc/${pid}/stat`);
  if (stat === null) return 0;
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th of those.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  let ticks = Number(rest[11]) + Number(rest[12]);
  const children = readOr(`/proc/${pid}/task/${pid}/children`);
  for (const c of children?.trim().split(/\s+/).filter(Boolean) ?? []) ticks += processTree(Number(c));
  return ticks;
}

export interface ContentionProbe {
  /** Share (0–1) of the machine's capacity used by processes outside `pids` since the probe started; NaN if unknown. */
  foreignShare(): number;
}

/** Starts measuring; `pids` are the bench's own processes (their children are included). */
export function probeContention(pids: readonly number[]): ContentionProbe {
  const m0 = machine();
  const ours0 = pids.reduce((n, p) => n + processTree(p), 0);
  return {
    foreignShare() {
      const m1 = machine();
      if (m0 === null || m1 === null || m1.total === m0.total) return Number.NaN;
      const ours = pids.reduce((n, p) => n + processTree(p), 0) - ours0;
      return Math.max(0, (m1.busy - m0.busy - ours) / (m1.total - m0.total));
    },
  };
}
