import type { HttpBindings } from "@hono/node-server";
import type { Identity } from "../auth/verifier.ts";
import type { Runtime } from "../runtime.ts";
import type { MatchPath } from "./path.ts";

/**
 * What the pipeline stages hand each other, declared once. Every listener's
 * Hono app is typed with these, so a stage reads `c.get("identity")` instead of
 * re-deriving it.
 */
export interface GatewayVariables {
  requestId: string;
  /** The authenticated caller; unset on anonymous (public-path) requests. */
  identity: Identity | undefined;
  clientIp: string;
  /** Ingress: the runtime (policy, verifier, pools) this request uses from start to end. */
  runtime: Runtime;
  /** Ingress: the path limits and `public` globs match on. */
  path: MatchPath;
  /** Route label for metrics: app, keys, healthz, usage, or the provider name. */
  route: string;
  /** Fields the access log line adds (limit that rejected, provider, model, tokens). */
  log: Record<string, unknown>;
}

export type GatewayEnv = { Bindings: HttpBindings; Variables: GatewayVariables };
