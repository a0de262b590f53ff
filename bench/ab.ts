/**
 * `npm run bench:ab -- [options] CHECKOUT[|node-flag…] CHECKOUT[|node-flag…] …`: keygate
 * builds of several checkouts (each with its `node_modules`), or one checkout with different
 * node flags, side by side against one mock and one Redis each, measured in alternating
 * closed-loop rounds. How every change in docs/performance.md was measured: on a noisy VM
 * only alternation within one run compares two builds fairly. Prints per round and a
 * summary: median req/s, median CPU µs per request of keygate and of its Redis (from
 * /proc/<pid>/stat; keygate's is the sharper figure when the generator's core saturates
 * first), peak RSS.
 *
 * @example npm run bench:ab -- --path egress --rounds 6 ../keygate-main .
 * @example npm run bench:ab -- --path ingress . ".|--max-old-space-size=512"
 */
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { mintUsers } from "./lib/jwts.ts";
import { GENEROUS_LIMITS, type Keygate, startKeygate, storeKeys } from "./lib/keygate.ts";
import { closedLoop, type LoadTarget } from "./lib/load.ts";
import { chatRequest } from "./lib/payloads.ts";
import { peakRssMiB, pinningPlan, spawnPinned, stop, waitForListening } from "./lib/procs.ts";
import { startBenchRedis } from "./lib/redis.ts";
import { median } from "./lib/stats.ts";

const USAGE = `usage: node bench/ab.ts [--path egress|sse|ingress] [--rounds N] [--seconds S] [--users N]
       [--connections N] [--concurrent] CHECKOUT[|node-flag…] CHECKOUT[|node-flag…] …`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    path: { type: "string", default: "egress" },
    rounds: { type: "string", default: "4" },
    seconds: { type: "string", default: "5" },
    users: { type: "string", default: "1000" },
    connections: { type: "string", default: "50" },
    concurrent: { type: "boolean", default: false },
  },
});
const count = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`--${name} must be a positive number, got "${text}"\n${USAGE}`);
  return n;
};
const path = values.path;
if (path !== "egress" && path !== "sse" && path !== "ingress")
  throw new Error(`unknown --path "${path}"\n${USAGE}`);
if (positionals.length < 1) throw new Error(USAGE);
const rounds = count("rounds", values.rounds);
const seconds = count("seconds", values.seconds);
const connections = count("connections", values.connections);

const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pin = pinningPlan();
const users = await mintUsers(count("users", values.users));
const mock = spawnPinned(pin?.rest, process.execPath, [join(benchRoot, "bench/mock-upstream.ts")], {
  stdio: ["ignore", "pipe", "pipe"],
});
const mockUrl = String((await waitForListening(mock, "mock upstream"))["url"]);
// The default policy puts `concurrent:` on every provider; --concurrent measures that shape.
const limits = values.concurrent
  ? GENEROUS_LIMITS.map((l) => (l.name === "openai-per-user" ? { ...l, concurrent: 1_000 } : l))
  : GENEROUS_LIMITS;

interface Contender {
  readonly label: string;
  readonly kg: Keygate;
  readonly redisPid: number;
  readonly stopRedis: () => Promise<void>;
  readonly rps: number[];
  readonly usPerRequest: number[];
  readonly redisUsPerRequest: number[];
}
const contenders: Contender[] = [];
for (const spec of positionals) {
  const [checkout = ".", ...nodeArgs] = spec.split("|");
  const redis = await startBenchRedis(pin?.rest);
  const kg = await startKeygate({
    root: resolve(checkout),
    mockUrl,
    jwtSecret: users.secret,
    redisUrl: redis.url,
    limits,
    nodeArgs,
    ...(pin ? { cores: pin.proxy } : {}),
  });
  await storeKeys(kg.ingress, users.tokens);
  const stopRedis = async () => {
    await stop(redis.child);
    await rm(redis.dir, { recursive: true, force: true });
  };
  contenders.push({
    label: spec,
    kg,
    redisPid: redis.child.pid!,
    stopRedis,
    rps: [],
    usPerRequest: [],
    redisUsPerRequest: [],
  });
}

const target = (kg: Keygate): LoadTarget =>
  path === "ingress"
    ? {
        origin: kg.ingress,
        path: "/api/chat",
        method: "POST",
        body: chatRequest(false).toString(),
        headers: [],
      }
    : {
        origin: kg.egress,
        path: "/openai/chat/completions",
        method: "POST",
        body: chatRequest(path === "sse").toString(),
        headers: [],
      };
/** User + system CPU of a process so far, in µs (clock ticks are 10 ms on Linux). */
const cpuUs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};

for (const c of contenders)
  await closedLoop(target(c.kg), users.tokens, { connections, durationMs: 5_000, rampMs: 500 });
for (let round = 0; round < rounds; round++) {
  // Alternate the order, so neither side always runs right after the other.
  const order = round % 2 === 0 ? contenders : [...contenders].reverse();
  for (const c of order) {
    await closedLoop(target(c.kg), users.tokens, { connections, durationMs: 1_000, rampMs: 200 });
    const pid = c.kg.child.pid!;
    const before = cpuUs(pid);
    const redisBefore = cpuUs(c.redisPid);
    const run = await closedLoop(target(c.kg), users.tokens, {
      connections,
      durationMs: seconds * 1_000,
      rampMs: 0,
    });
    const us = (cpuUs(pid) - before) / Math.max(1, run.ok);
    const redisUs = (cpuUs(c.redisPid) - redisBefore) / Math.max(1, run.ok);
    c.rps.push(run.rps);
    c.usPerRequest.push(us);
    c.redisUsPerRequest.push(redisUs);
    const failed = run.sent - run.ok;
    process.stderr.write(
      `round ${round + 1}/${rounds} ${c.label}: ${run.rps.toFixed(0)} req/s, ${us.toFixed(1)} µs CPU/request, Redis ${redisUs.toFixed(1)} µs` +
        `${failed > 0 ? `, ${failed} failed (${run.firstError ?? JSON.stringify(run.statuses)})` : ""}\n`,
    );
  }
}

console.log(
  `\n${path}, ${rounds} alternating rounds × ${seconds} s, ${connections} connections, ${users.tokens.length} users`,
);
console.log(
  "| keygate | median req/s | median CPU µs/request | Redis CPU µs/request | peak RSS MiB |\n| --- | ---: | ---: | ---: | ---: |",
);
for (const c of contenders)
  console.log(
    `| ${c.label.replaceAll("|", "\\|")} | ${median(c.rps).toFixed(0)} | ${median(c.usPerRequest).toFixed(1)} | ${median(c.redisUsPerRequest).toFixed(1)} | ${peakRssMiB(c.kg.child.pid!).toFixed(0)} |`,
  );
for (const c of contenders) {
  await stop(c.kg.child);
  await rm(c.kg.dir, { recursive: true, force: true });
  await c.stopRedis();
}
await stop(mock);
