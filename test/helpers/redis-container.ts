/**
 * The Redis of last resort for a developer laptop without `redis-server`
 * but with a Docker engine: the same `RedisServer` API on a `redis:7`
 * container bound to a fixed host port, so `kill()` + `start()` come back
 * on the same address like a restarted server. CI and the machines here
 * always have `redis-server` (`.ci/run` installs it), so this path is not
 * exercised there: no Docker engine runs on them.
 */
import { GenericContainer, type StartedTestContainer, Wait } from "testcontainers";
import type { RedisServer } from "./redis.ts";

const IMAGE = "redis:7.4-alpine";

export async function startRedisContainer(port: number, extraArgs: readonly string[]): Promise<RedisServer> {
  let container: StartedTestContainer | undefined;
  const start = async () => {
    container = await new GenericContainer(IMAGE)
      .withExposedPorts({ container: 6379, host: port })
      .withCommand(["redis-server", "--save", "", "--appendonly", "no", ...extraArgs])
      .withWaitStrategy(Wait.forLogMessage("Ready to accept connections"))
      .start();
  };
  const kill = async () => {
    const c = container;
    container = undefined;
    // No grace period: an outage as the gateway sees it, like SIGKILL on a process.
    await c?.stop({ timeout: 0 });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    stop: kill,
    async cli(...args: string[]) {
      if (!container) throw new Error("the Redis container is stopped");
      const { output } = await container.exec(["redis-cli", ...args]);
      return output.trim();
    },
  };
}
