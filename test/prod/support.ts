/**
 * Shared pieces of the production-behaviour tests: the policy header every
 * test uses, bounded waits, authenticated requests and reading one sample out
 * of a running keygate's `/metrics`.
 */

/** A policy with HS256 auth on `KEYGATE_JWT_SECRET`, the app at `${APP_URL}`, and `limits` (YAML list items). */
export function policyWith(limits: readonly string[], extra = ""): string {
  return `version: 1
auth: { algorithms: [HS256], secret_env: KEYGATE_JWT_SECRET }
upstreams: { app: "\${APP_URL}" }
${extra}
limits:
${limits.map((l) => `  - ${l}`).join("\n")}
`;
}

/** Polls `check` until it returns a value other than undefined/false; fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Fails when `promise` has not settled within `ms` (a hang is a bug, not a slow run). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** GET `path` with the JWT as Bearer token; the body is read so the connection is reusable. */
export async function getStatus(base: string, token: string, path = "/api/x"): Promise<number> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Statuses of `count` sequential GETs. */
export async function statuses(
  base: string,
  token: string,
  count: number,
  path = "/api/x",
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(await getStatus(base, token, path));
  return out;
}

/** The value of one sample in a Prometheus exposition (labels in any order), or undefined when absent. */
export function sampleValue(
  exposition: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of exposition.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = new Map(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(match[3]);
  }
  return undefined;
}

/** One sample read from a running keygate's admin listener. */
export async function metric(adminUrl: string, name: string, labels: Record<string, string> = {}) {
  const res = await fetch(`${adminUrl}/metrics`);
  return sampleValue(await res.text(), name, labels);
}

/** JSON log lines from a child's stdout (non-JSON lines are skipped). */
export function parseLogLines(stdout: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line still being written.
    }
  }
  return out;
}
