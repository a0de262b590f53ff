import type { HttpBindings } from "@hono/node-server";
import type { Identity } from "../auth/verifier.ts";
import type { Usage } from "../providers/usage/tally.ts";
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
  log: AccessLogFields;
}

/**
 * Everything a stage may add to the access log line. A closed set of
 * gateway-made values (never a header, body or caller-supplied object), which
 * is why access lines skip pino's field redaction (gateway/http/access-log.ts).
 */
export interface AccessLogFields {
  /** keygate's error slug, when the answer is keygate's own error. */
  error?: string;
  /** Names of the limits that rejected the request, comma-separated. */
  limit?: string;
  /** Shadow-mode limits that would have rejected it. */
  shadow?: string;
  provider?: string;
  model?: string;
  status_upstream?: number;
  tokens?: Usage;
}

export type GatewayEnv = { Bindings: HttpBindings; Variables: GatewayVariables };
