/**
 * The metric names the deploy/ files depend on, and the names a keygate
 * exports, so a test can hold one against the other.
 *
 * Every dashboard, alarm and collector config under deploy/ names metrics by
 * their Prometheus series names (`keygate_*`; CloudWatch metric names are the
 * same). A name that keygate does not export draws an empty graph or an alarm
 * that never fires, silently; these helpers turn that into a test failure.
 *
 * @example
 * const exported = seriesNamesFromExposition(await (await fetch(`${admin}/metrics`)).text());
 * const missing = [...(await metricNamesUsedByDeploy())].filter((n) => !exported.has(n));
 * expect(missing).toEqual([]);
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";

/** The repository's deploy/ directory. */
export const DEPLOY_DIR = resolve(import.meta.dirname, "../../deploy");

const METRIC_NAME = /\bkeygate_[a-z0-9_]*[a-z0-9]\b/g;

/** Every `keygate_*` series name written in `text`, as written (histograms keep their `_bucket` suffix). */
export function metricNamesIn(text: string): Set<string> {
  return new Set(text.match(METRIC_NAME) ?? []);
}

/** Files under deploy/, relative to it, skipping dot directories (e.g. a local `.terraform/`). */
export async function deployFiles(): Promise<string[]> {
  const entries = await readdir(DEPLOY_DIR, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(DEPLOY_DIR, join(e.parentPath, e.name)))
    .filter((path) => !path.split("/").some((part) => part.startsWith(".")))
    .sort();
}

/** Series names used per deploy/ file (files that use none are left out). */
export async function metricNamesByFile(): Promise<Map<string, Set<string>>> {
  const byFile = new Map<string, Set<string>>();
  for (const path of await deployFiles()) {
    const names = metricNamesIn(await readFile(join(DEPLOY_DIR, path), "utf8"));
    if (names.size > 0) byFile.set(path, names);
  }
  return byFile;
}

/**
 * Every metric series name that a dashboard, alarm or collector config under
 * deploy/ uses: CloudWatch dashboard and alarms (`.json`, `.tf`), the
 * CloudWatch agent's config and scrape filter, and the Grafana dashboard.
 */
export async function metricNamesUsedByDeploy(): Promise<Set<string>> {
  const all = new Set<string>();
  for (const names of (await metricNamesByFile()).values()) for (const name of names) all.add(name);
  return all;
}

const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

/**
 * The series names a Prometheus text exposition declares, from its `# TYPE`
 * lines: a labelled metric with no sample yet still counts, and a histogram
 * family `x` yields `x_bucket`, `x_sum` and `x_count` (a summary: `x`, `x_sum`, `x_count`).
 */
export function seriesNamesFromExposition(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (!match) continue;
    const [, family, type] = match as unknown as [string, string, string];
    for (const suffix of SUFFIXES[type] ?? [""]) names.add(family + suffix);
  }
  return names;
}

/** Names of the histogram families in an exposition (the CloudWatch agent drops these). */
export function histogramFamilies(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) histogram$/gm)].map((m) => m[1] as string));
}
