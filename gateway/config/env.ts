/**
 * Process configuration from the environment (SPEC §2), checked once at
 * startup. Every problem is a `ConfigError` whose message names the variable
 * and says what to set.
 */

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface GatewayConfig {
  readonly ingress: ListenAddress;
  readonly egress: ListenAddress;
  readonly admin: ListenAddress;
  readonly policiesFile: string;
  readonly dataDir: string;
  readonly replicas: number;
  readonly drainTimeoutMs: number;
  readonly logLevel: string;
  readonly production: boolean;
}

const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

export function parseListenAddress(name: string, value: string): ListenAddress {
  // `[::1]:8080`, `0.0.0.0:8080`, `localhost:0`
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) {
    throw new ConfigError(
      `${name}=${value}: expected host:port, e.g. 127.0.0.1:8080 (port 0 picks a free port)`,
    );
  }
  return { host: (match[1] ?? match[2]) as string, port };
}

function positiveNumber(name: string, value: string | undefined, fallback: number, integer: boolean): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new ConfigError(`${name}=${value}: expected a positive ${integer ? "integer" : "number"}`);
  }
  return n;
}

/** The policy file: the explicit argument, then `$KEYGATE_POLICIES`, then `./policies.yaml`. */
export function policiesPath(env: NodeJS.ProcessEnv, explicit?: string): string {
  return explicit ?? (env["KEYGATE_POLICIES"] || "./policies.yaml");
}

export function loadConfig(env: NodeJS.ProcessEnv, policiesOverride?: string): GatewayConfig {
  if (env["REDIS_URL"] && env["REDIS_CLUSTER_NODES"]) {
    throw new ConfigError("REDIS_URL and REDIS_CLUSTER_NODES are both set: set either one, not both");
  }
  const logLevel = env["LOG_LEVEL"] || "info";
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError(`LOG_LEVEL=${logLevel}: expected one of ${[...LOG_LEVELS].join(", ")}`);
  }
  return {
    ingress: parseListenAddress("KEYGATE_INGRESS", env["KEYGATE_INGRESS"] || "0.0.0.0:8080"),
    egress: parseListenAddress("KEYGATE_EGRESS", env["KEYGATE_EGRESS"] || "127.0.0.1:8081"),
    admin: parseListenAddress("KEYGATE_ADMIN", env["KEYGATE_ADMIN"] || "127.0.0.1:9090"),
    policiesFile: policiesPath(env, policiesOverride),
    dataDir: env["KEYGATE_DATA_DIR"] || "./.keygate",
    replicas: positiveNumber("KEYGATE_REPLICAS", env["KEYGATE_REPLICAS"], 1, true),
    drainTimeoutMs: positiveNumber("KEYGATE_DRAIN_TIMEOUT", env["KEYGATE_DRAIN_TIMEOUT"], 25, false) * 1000,
    logLevel,
    production: env["NODE_ENV"] === "production",
  };
}
