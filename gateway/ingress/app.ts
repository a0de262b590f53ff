import { Hono } from "hono";
import type { Logger } from "pino";
import { GatewayError } from "../errors.ts";
import { accessLog } from "../http/access-log.ts";
import type { GatewayEnv } from "../http/context.ts";
import type { Inflight } from "../http/inflight.ts";
import { problemResponse } from "../http/problem.ts";
import { errorBoundary } from "../http/render-error.ts";
import { requestScope } from "../http/request-scope.ts";
import type { QuotaService } from "../limits/quota-service.ts";
import type { Metrics } from "../metrics.ts";
import type { RuntimeRef } from "../runtime.ts";
import { authenticate } from "./authenticate.ts";
import { enforceLimits, withQuotaHeaders } from "./enforce-limits.ts";
import { proxyToApp } from "./proxy-to-app.ts";

export interface IngressDeps {
  readonly runtime: RuntimeRef;
  readonly quotas: QuotaService;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Shutdown waits for these handlers (see gateway/http/inflight.ts). */
  readonly inflight: Inflight;
  readonly draining: () => boolean;
  /** `/_keygate/keys…` and `/_keygate/usage` (mounted under `/_keygate`). */
  readonly keygateRoutes?: Hono<GatewayEnv>;
}

const NOT_FOUND = new GatewayError(404, "not-found", "Not Found", "No such keygate endpoint.");

/**
 * The public listener (SPEC §3): keygate's own endpoints under `/_keygate`,
 * everything else authenticated, rate-limited and proxied to the app.
 */
export function createIngressApp(deps: IngressDeps): Hono<GatewayEnv> {
  const { runtime, quotas } = deps;
  const app = new Hono<GatewayEnv>();
  app.use(deps.inflight.stage);
  app.use(accessLog("ingress", deps.logger, deps.metrics));
  app.use(requestScope(runtime));

  app.get("/_keygate/healthz", (c) => {
    c.set("route", "healthz");
    return deps.draining() ? c.json({ status: "draining" }, 503) : c.json({ status: "ok" });
  });
  if (deps.keygateRoutes) app.route("/_keygate", deps.keygateRoutes);
  app.all("/_keygate", () => {
    throw NOT_FOUND;
  });
  app.all("/_keygate/*", () => {
    throw NOT_FOUND;
  });

  app.use(
    "*",
    authenticate((c) => {
      const { path, exact } = c.get("path");
      return exact && c.get("runtime").policy.auth.isPublic(path);
    }),
  );
  app.all("*", async (c) => {
    const current = c.get("runtime");
    const limits = current.policy.limitsFor("app", c.req.method, c.get("path").path);
    const decision = await enforceLimits(c, quotas, limits);
    return withQuotaHeaders(decision, () => proxyToApp(c, current, decision?.headers ?? {}));
  });

  app.onError(
    errorBoundary(deps.logger, (err, c) => {
      const problem = problemResponse(err);
      return c.body(problem.body, problem.status as 400, problem.headers);
    }),
  );
  return app;
}
