import { loadPolicyFile, type PolicyWarning } from "../policies/load.ts";
import type { CompiledPolicy } from "../policies/types.ts";
import { createAdminApp } from "./admin/app.ts";
import { withDevJwtSecret } from "./config/dev-secret.ts";
import { loadConfig } from "./config/env.ts";
import { createEgressApp } from "./egress/app.ts";
import { createInflight } from "./http/inflight.ts";
import { createIngressApp } from "./ingress/app.ts";
import { createKeygateRoutes } from "./keys/routes.ts";
import { createQuotaService } from "./limits/quota-service.ts";
import { createLogger, flushLogs, logListening } from "./log/logger.ts";
import { createMetrics } from "./metrics.ts";
import { createPolicyReloader, locateRuntimeError } from "./reload.ts";
import { createRuntimeHolder } from "./runtime.ts";
import { listen } from "./server.ts";
import { createRedisConnection, whenReady } from "./store/redis.ts";
import { openVault } from "./vault/open.ts";

const REDIS_READY_TIMEOUT_MS = 5_000;
/** After the drain deadline cut the last streams, their handlers get this long to settle and release. */
const HANDLER_SETTLE_MS = 2_000;

/** A startup problem: the process prints `message` and exits non-zero. */
export class StartupError extends Error {
  override name = "StartupError";
}

export interface GatewayOptions {
  readonly env: NodeJS.ProcessEnv;
  /** `--policies FILE`; else `$KEYGATE_POLICIES`, else `./policies.yaml`. */
  readonly policiesFile?: string;
  /** Log destination (tests capture it); stdout by default. */
  readonly logDestination?: import("pino").DestinationStream;
}

export interface Gateway {
  readonly urls: { readonly ingress: string; readonly egress: string; readonly admin: string };
  /** Re-reads the policy file; false (old policy kept) when it is invalid. */
  reload(): Promise<boolean>;
  /** SIGTERM behaviour: fail readiness, stop accepting, finish in-flight work, release resources. */
  shutdown(): Promise<void>;
}

async function loadStartupPolicy(
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<{ policy: CompiledPolicy; warnings: PolicyWarning[] }> {
  const result = await loadPolicyFile(file, env);
  if (!result.ok) {
    throw new StartupError(
      `policy file ${file} is invalid; fix these and start again:\n${result.errors.join("\n")}`,
    );
  }
  return result;
}

/** The composition root: reads the environment once and wires every module. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const config = loadConfig(options.env, options.policiesFile);
  const logger = createLogger({
    level: config.logLevel,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const metrics = createMetrics();
  const { policy, warnings } = await loadStartupPolicy(config.policiesFile, options.env);
  const embedded = !options.env["REDIS_URL"] && !options.env["REDIS_CLUSTER_NODES"];
  const dev = await withDevJwtSecret(options.env, policy.auth, {
    dataDir: config.dataDir,
    embedded,
    production: config.production,
  });
  const env = dev.env;
  if (dev.warning) logger.warn(dev.warning);
  let runtime: ReturnType<typeof createRuntimeHolder>;
  try {
    runtime = createRuntimeHolder(policy, env, metrics);
  } catch (err) {
    throw new StartupError(locateRuntimeError((err as Error).message, config.policiesFile, warnings));
  }
  const redis = createRedisConnection(env);
  // Serve from the start with shared counting; an unreachable Redis is not fatal (on_store_failure applies).
  if (redis)
    await whenReady(redis, REDIS_READY_TIMEOUT_MS).catch(() =>
      logger.warn("Redis is not reachable yet; limits follow on_store_failure until it is"),
    );
  const {
    vault,
    warning,
    close: closeVault,
  } = await openVault({
    env,
    dataDir: config.dataDir,
    redis,
    production: config.production,
    metrics,
    logger,
  });
  if (warning) logger.warn(warning);
  const quotas = createQuotaService({ redis, replicas: config.replicas, metrics, logger });

  const inflight = createInflight();
  let draining = false;
  const isDraining = () => draining;
  const keygateRoutes = createKeygateRoutes({ quotas, vault });
  const ingress = await listen(
    config.ingress,
    createIngressApp({ runtime, quotas, logger, metrics, inflight, draining: isDraining, keygateRoutes })
      .fetch,
  );
  const egress = await listen(
    config.egress,
    createEgressApp({ runtime, quotas, vault, logger, metrics, inflight }).fetch,
  );
  const admin = await listen(
    config.admin,
    createAdminApp({ runtime, quotas, metrics, draining: isDraining }).fetch,
  );
  const reloader = createPolicyReloader({ file: config.policiesFile, env, runtime, logger, metrics });

  const urls = { ingress: ingress.url, egress: egress.url, admin: admin.url };
  logListening(logger, urls);

  return {
    urls,
    reload: () => reloader.reload(),
    async shutdown() {
      if (draining) return;
      draining = true;
      metrics.draining.set(1);
      logger.info({ timeoutMs: config.drainTimeoutMs }, "draining: finishing in-flight requests");
      reloader.close();
      await Promise.all([ingress.drain(config.drainTimeoutMs), egress.drain(config.drainTimeoutMs)]);
      // Connections are closed; let handlers finish settling tokens and releasing leases before Redis goes.
      await inflight.idle(HANDLER_SETTLE_MS);
      await admin.drain(0);
      await Promise.all([quotas.close(), runtime.close()]);
      closeVault();
      redis?.disconnect();
      logger.info("drained");
      await flushLogs(logger);
    },
  };
}
