/**
 * `npm run loadtest`: 100+ simulated users (distinct JWTs) drive keygate with
 * Redis through ingress (GET and POST to the app) and egress (plain and
 * streamed LLM calls to a mock provider) for a bounded time. A tenth of the
 * users are greedy (10–30 ms think time, normal users 100–400 ms) so the policy's limits produce intended
 * 429s. Prints throughput, p50/p95/p99, errors, rejections by limit and RSS
 * over time; exits 1 on any error other than an intended 429, or P95 ≥ 500 ms.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { hrtime } from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { mintUsers } from "./lib/jwts.ts";
import { type BenchLimit, keygateAvailable, startKeygate, storeKeys } from "./lib/keygate.ts";
import { loadtestSummary, loadtestTable } from "./lib/loadtest-report.ts";
import { peakRssMiB, rssMiB, spawnPinned, stop, waitForListening } from "./lib/procs.ts";
import { startBenchRedis } from "./lib/redis.ts";
import { newTallies, simulateUser } from "./lib/users.ts";

/** Generous for normal users (≈ 2–4 req/s each), tight for greedy ones. */
const LIMITS: readonly BenchLimit[] = [
  { name: "user-requests", scope: "app", per: "user", rate: "100/10s" },
  { name: "openai-per-user", scope: "openai", per: "user", rate: "60/10s", tokens: "100000/1m" },
  { name: "openai-all-users", scope: "openai", per: "global", rate: "1000000/1m" },
];
const P95_BAR_MS = 500;

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const log = (line: string) => process.stderr.write(`${line}\n`);

function options() {
  const { values } = parseArgs({
    options: {
      users: { type: "string" },
      duration: { type: "string" },
      quick: { type: "boolean", default: false },
      out: { type: "string" },
    },
  });
  const num = (name: string, text: string | undefined, fallback: number, min: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got "${text}"`);
    return n;
  };
  return {
    users: Math.round(num("users", values.users ?? process.env["LOADTEST_USERS"], 150, 100)),
    durationS: num(
      "duration",
      values.duration ?? process.env["LOADTEST_DURATION"],
      values.quick ? 10 : 30,
      1,
    ),
    out: values.out,
  };
}

async function main() {
  const opts = options();
  if (!keygateAvailable(root)) throw new Error("gateway/cli.ts is not in the tree: nothing to load-test yet");
  const users = await mintUsers(opts.users);
  const mock = spawnPinned(undefined, process.execPath, [join(root, "bench/mock-upstream.ts")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const children = [mock];
  const dirs: string[] = [];
  const abort = () => void Promise.all(children.map((c) => stop(c))).finally(() => process.exit(130));
  process.once("SIGINT", abort).once("SIGTERM", abort);
  try {
    const mockUrl = String((await waitForListening(mock, "mock upstream"))["url"]);
    const redis = await startBenchRedis(undefined);
    children.push(redis.child);
    dirs.push(redis.dir);
    const kg = await startKeygate({
      root,
      mockUrl,
      jwtSecret: users.secret,
      redisUrl: redis.url,
      limits: LIMITS,
    });
    children.push(kg.child);
    dirs.push(kg.dir);
    await storeKeys(kg.ingress, users.tokens);
    const pid = kg.child.pid!;
    log(`keygate ${kg.ingress} / ${kg.egress}; ${opts.users} users for ${opts.durationS}s`);

    const pools = {
      ingress: new Pool(kg.ingress, { connections: opts.users + 16 }),
      egress: new Pool(kg.egress, { connections: opts.users + 16 }),
    };
    const tallies = newTallies();
    const rss: { t: number; mib: number }[] = [];
    const t0 = hrtime.bigint();
    const until = t0 + BigInt(Math.round(opts.durationS * 1e9));
    const sampler = setInterval(() => {
      const t = Number(hrtime.bigint() - t0) / 1e9;
      rss.push({ t, mib: rssMiB(pid) });
      if (rss.length % 5 === 0) {
        const recent = tallies.timeline.filter((x) => x.t > t - 5).length;
        log(
          `t=${t.toFixed(0)}s ${Math.round(recent / 5)} req/s, keygate RSS ${rss.at(-1)!.mib.toFixed(0)} MiB`,
        );
      }
    }, 1_000);
    const greedy = Math.max(1, Math.floor(opts.users / 10));
    await Promise.all(
      users.tokens.map((token, i) =>
        simulateUser(token, pools, tallies, t0, until, i < greedy ? [10, 30] : [100, 400]),
      ),
    );
    clearInterval(sampler);
    const elapsedS = Number(hrtime.bigint() - t0) / 1e9;
    await Promise.all([pools.ingress.close(), pools.egress.close()]);

    const summary = loadtestSummary(tallies, elapsedS, rss, peakRssMiB(pid), P95_BAR_MS, {
      users: opts.users,
      greedy,
    });
    process.stdout.write(`${loadtestTable(summary)}\n`);
    const date = new Date().toISOString();
    const out = opts.out ?? join(root, "bench/results", `loadtest-${date.replace(/[:.]/g, "-")}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify({ date, limits: LIMITS, ...summary }, null, 2)}\n`);
    log(`results: ${out}`);
    if (!summary.pass) process.exitCode = 1;
  } finally {
    await Promise.all(children.map((c) => stop(c)));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`loadtest failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
