import type { CompiledPolicy } from "../policies/types.ts";
import { createJwtVerifier, type JwtVerifier } from "./auth/verifier.ts";
import { type ClientIpResolver, createClientIpResolver } from "./http/client-ip.ts";
import type { Metrics } from "./metrics.ts";
import { createUpstream, type Upstream } from "./proxy/upstream.ts";

/**
 * Everything derived from one policy: the policy itself, the JWT verifier,
 * the proxy trust list and the upstream pools. A reload builds a new Runtime
 * and swaps one reference, so a request sees one consistent policy from
 * start to end.
 */
export interface Runtime {
  readonly policy: CompiledPolicy;
  readonly verifier: JwtVerifier;
  readonly ips: ClientIpResolver;
  readonly app: Upstream;
  /** Provider name → pool for its base_url's origin. */
  readonly providers: ReadonlyMap<string, Upstream>;
}

export interface RuntimeRef {
  readonly current: Runtime;
}

export interface RuntimeHolder extends RuntimeRef {
  /** Builds a runtime for `policy` and makes it current; throws (and keeps the old one) if it cannot be built. */
  swap(policy: CompiledPolicy): void;
  close(): Promise<void>;
}

const APP_CONNECT_TIMEOUT_MS = 5_000;
const APP_TIMEOUT_MS = 300_000;
const PROVIDER_CONNECT_TIMEOUT_MS = 10_000;
/** Pools a reload no longer uses are closed after in-flight calls had time to finish. */
const RETIRE_AFTER_MS = 60_000;

export function createRuntimeHolder(
  policy: CompiledPolicy,
  env: NodeJS.ProcessEnv,
  metrics: Metrics,
): RuntimeHolder {
  // Pools are reused across reloads while origin and timeout stay the same, so keep-alive connections survive.
  const pools = new Map<string, Upstream>();
  const pool = (name: string, url: string, connectTimeoutMs: number, timeoutMs: number): Upstream => {
    const origin = new URL(url).origin;
    const key = `${name} ${origin} ${timeoutMs}`;
    let upstream = pools.get(key);
    if (!upstream) {
      upstream = createUpstream({ name, origin, connectTimeoutMs, timeoutMs }, metrics);
      pools.set(key, upstream);
    }
    return upstream;
  };

  const build = (next: CompiledPolicy): Runtime => {
    const verifier = createJwtVerifier(next.auth, env);
    const providers = new Map<string, Upstream>();
    for (const provider of next.providers.values()) {
      providers.set(
        provider.name,
        pool(provider.name, provider.baseUrl, PROVIDER_CONNECT_TIMEOUT_MS, provider.timeoutMs),
      );
    }
    return {
      policy: next,
      verifier,
      ips: createClientIpResolver(next.trustProxies),
      app: pool("app", next.upstreams.app, APP_CONNECT_TIMEOUT_MS, APP_TIMEOUT_MS),
      providers,
    };
  };

  let current = build(policy);
  const inUse = (runtime: Runtime) => new Set([runtime.app, ...runtime.providers.values()]);
  return {
    get current() {
      return current;
    },
    swap(next) {
      const built = build(next);
      current = built;
      const live = inUse(built);
      for (const [key, upstream] of pools) {
        if (live.has(upstream)) continue;
        pools.delete(key);
        setTimeout(() => void upstream.close(), RETIRE_AFTER_MS).unref();
      }
    },
    async close() {
      await Promise.all([...pools.values()].map((upstream) => upstream.close()));
      pools.clear();
    },
  };
}
