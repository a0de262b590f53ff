/**
 * Everything the bench compares, started once and left running (idle when not
 * under load): the mock, a dedicated Redis, the bare proxy, nginx, and keygate
 * with Redis and embedded. Proxies go on the proxy core; the mock and Redis on
 * the generator's cores.
 */
import type { ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { BenchUsers } from "./jwts.ts";
import { keygateAvailable, startKeygate, storeKeys } from "./keygate.ts";
import { findNginx, startNginx } from "./nginx.ts";
import { spawnPinned, stop, waitForListening, watchExit } from "./procs.ts";
import { startBenchRedis } from "./redis.ts";

/** One column source in the table: where requests go and what they look like. */
export interface Setup {
  readonly name: string;
  readonly origin: string;
  readonly path: string;
  readonly stream: boolean;
  /** The proxy process whose peak RSS is reported; undefined for direct. */
  readonly pid?: number;
  /** Name of the setup this one's added latency is measured against. */
  readonly baseline: string;
}

export interface Fleet {
  readonly setups: Setup[];
  readonly notes: string[];
  /** Every process the fleet started (for contention accounting). */
  pids(): number[];
  shutdown(): Promise<void>;
}

const CHAT = "/v1/chat/completions";

/** Starts every process; a component that cannot start is skipped with a note, not fatal (except the mock). */
export async function startFleet(
  root: string,
  users: BenchUsers,
  pin: { proxy: string; rest: string } | null,
): Promise<Fleet> {
  const children: ChildProcess[] = [];
  const disarms: (() => void)[] = [];
  const dirs: string[] = [];
  let crashed = false;
  const watch = (child: ChildProcess, what: string) =>
    disarms.push(
      watchExit(child, what, (l) => {
        crashed = true;
        process.stderr.write(`${l}\n`);
      }),
    );
  const notes: string[] = [];
  const setups: Setup[] = [];
  const both = (name: string, origin: string, path: string, pid: number | undefined) => {
    const p = pid === undefined ? {} : { pid };
    setups.push({ name, origin, path, stream: false, baseline: "direct", ...p });
    setups.push({ name: `${name}-sse`, origin, path, stream: true, baseline: "direct-sse", ...p });
  };
  const node = (file: string, env: NodeJS.ProcessEnv, cores: string | undefined) => {
    const child = spawnPinned(cores, process.execPath, [join(root, file)], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    return child;
  };

  const mockChild = node("bench/mock-upstream.ts", {}, pin?.rest);
  const mockUrl = String((await waitForListening(mockChild, "mock upstream"))["url"]);
  watch(mockChild, "mock upstream");
  both("direct", mockUrl, CHAT, undefined);

  const bare = node("bench/bare-proxy.ts", { UPSTREAM: mockUrl }, pin?.proxy);
  both("bare-proxy", String((await waitForListening(bare, "bare proxy"))["url"]), CHAT, bare.pid);
  watch(bare, "bare proxy");

  const nginxBin = findNginx();
  if (nginxBin === null)
    notes.push("nginx is not on PATH: its rows are skipped (install nginx or nginx-light to add them)");
  else {
    const nginx = await startNginx(nginxBin, mockUrl, pin?.proxy);
    children.push(nginx.child);
    dirs.push(nginx.dir);
    both("nginx", nginx.url, CHAT, nginx.child.pid);
  }

  if (!keygateAvailable(root)) {
    notes.push("gateway/cli.ts is not in the tree yet: keygate rows are skipped");
  } else {
    try {
      const redis = await startBenchRedis(pin?.rest);
      children.push(redis.child);
      dirs.push(redis.dir);
      const common = { root, mockUrl, jwtSecret: users.secret, ...(pin ? { cores: pin.proxy } : {}) };
      const withRedis = await startKeygate({ ...common, redisUrl: redis.url });
      children.push(withRedis.child);
      dirs.push(withRedis.dir);
      watch(withRedis.child, `keygate (Redis; log ${withRedis.logFile})`);
      await storeKeys(withRedis.ingress, users.tokens);
      const pid = withRedis.child.pid;
      setups.push({
        name: "keygate-ingress",
        origin: withRedis.ingress,
        path: "/api/chat",
        stream: false,
        baseline: "direct",
        ...(pid ? { pid } : {}),
      });
      setups.push({
        name: "keygate-egress",
        origin: withRedis.egress,
        path: "/openai/chat/completions",
        stream: false,
        baseline: "direct",
        ...(pid ? { pid } : {}),
      });
      setups.push({
        name: "keygate-egress-sse",
        origin: withRedis.egress,
        path: "/openai/chat/completions",
        stream: true,
        baseline: "direct-sse",
        ...(pid ? { pid } : {}),
      });
      const embedded = await startKeygate(common);
      children.push(embedded.child);
      dirs.push(embedded.dir);
      watch(embedded.child, `keygate (embedded; log ${embedded.logFile})`);
      const epid = embedded.child.pid;
      setups.push({
        name: "keygate-ingress-embedded",
        origin: embedded.ingress,
        path: "/api/chat",
        stream: false,
        baseline: "direct",
        ...(epid ? { pid: epid } : {}),
      });
    } catch (err) {
      notes.push(
        `keygate could not be started, its rows are skipped: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  return {
    setups,
    notes,
    pids: () => children.flatMap((c) => (c.pid === undefined ? [] : [c.pid])),
    async shutdown() {
      for (const disarm of disarms) disarm();
      await Promise.all(children.map((c) => stop(c)));
      // A crashed process's log is evidence: keep the temp dirs then.
      if (!crashed) await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}
