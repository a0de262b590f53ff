import type { Logger } from "pino";
import { diffPolicies } from "../policies/diff.ts";
import { loadPolicyFile, type PolicyWarning } from "../policies/load.ts";
import type { CompiledPolicy } from "../policies/types.ts";
import { watchPolicyFile } from "../policies/watch.ts";
import type { Metrics } from "./metrics.ts";
import type { RuntimeHolder } from "./runtime.ts";

/**
 * A policy can be valid yet unusable here (e.g. `auth.secret_env` names an
 * unset variable): the runtime's message starts with the field path, and the
 * loader's warning for that field knows its position — use it, so every
 * policy error reads `FILE:LINE:COL: field: problem`.
 */
export function locateRuntimeError(
  message: string,
  file: string,
  warnings: readonly PolicyWarning[],
): string {
  const field = message.slice(0, message.indexOf(":"));
  const position = warnings.find((warning) => warning.field === field)?.position;
  return `${position ?? file}: ${message}`;
}

export interface PolicyReloader {
  /** Loads the file again; a valid one replaces the running policy, an invalid one is logged and ignored. */
  reload(): Promise<boolean>;
  close(): void;
}

function publishPolicy(metrics: Metrics, policy: CompiledPolicy): void {
  metrics.policyInfo.reset();
  metrics.policyInfo.set({ hash: policy.hash, limits: String(policy.limits.length) }, 1);
}

/**
 * Hot reload: on file change (watcher) and on demand (SIGHUP). Reloads are
 * serialised so two quick edits cannot apply out of order. Counters live in
 * the store under the limit's name, so unchanged limits keep their state.
 */
export function createPolicyReloader(deps: {
  file: string;
  env: NodeJS.ProcessEnv;
  runtime: RuntimeHolder;
  logger: Logger;
  metrics: Metrics;
}): PolicyReloader {
  const { file, env, runtime, logger, metrics } = deps;
  publishPolicy(metrics, runtime.current.policy);
  let queue: Promise<boolean> = Promise.resolve(true);

  const apply = async (): Promise<boolean> => {
    const result = await loadPolicyFile(file, env);
    const previous = runtime.current.policy;
    if (result.ok && result.policy.hash === previous.hash) return true;
    let problems = result.ok ? [] : result.errors;
    if (result.ok) {
      try {
        runtime.swap(result.policy);
      } catch (err) {
        problems = [locateRuntimeError((err as Error).message, file, result.warnings)];
      }
    }
    if (problems.length > 0 || !result.ok) {
      metrics.policyReloads.inc({ result: "error" });
      logger.error({ file, errors: problems }, "policy reload rejected; the running policy stays in force");
      return false;
    }
    const changes = diffPolicies(previous, result.policy);
    metrics.policyReloads.inc({ result: "ok" });
    publishPolicy(metrics, result.policy);
    logger.info({ file, hash: result.policy.hash, ...changes }, "policy reloaded");
    return true;
  };

  const watcher = watchPolicyFile(file, () => {
    void reloader.reload();
  });
  const reloader: PolicyReloader = {
    reload() {
      queue = queue.then(apply, apply);
      return queue;
    },
    close: () => watcher.close(),
  };
  return reloader;
}
