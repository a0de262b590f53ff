import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { Hono } from "hono";
import type { Logger } from "pino";
import type { ProviderPolicy } from "../../policies/types.ts";
import { egressToken } from "../auth/credentials.ts";
import { unauthorized } from "../auth/verifier.ts";
import { GatewayError } from "../errors.ts";
import { accessLog } from "../http/access-log.ts";
import type { GatewayEnv } from "../http/context.ts";
import type { Inflight } from "../http/inflight.ts";
import { readBody } from "../http/read-body.ts";
import { errorBoundary } from "../http/render-error.ts";
import { enforceLimits, withQuotaHeaders } from "../ingress/enforce-limits.ts";
import type { QuotaService } from "../limits/quota-service.ts";
import type { Metrics } from "../metrics.ts";
import { providerErrorResponse } from "../providers/errors.ts";
import { splitEgressTarget } from "../providers/path.ts";
import type { RuntimeRef } from "../runtime.ts";
import type { Vault } from "../vault/vault.ts";
import { callProvider } from "./call.ts";
import { prepareCall } from "./prepare.ts";

export interface EgressDeps {
  readonly runtime: RuntimeRef;
  readonly quotas: QuotaService;
  readonly vault: Vault;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Shutdown waits for these handlers (see gateway/http/inflight.ts). */
  readonly inflight: Inflight;
}

/** The JWT may arrive as `?key=` (Gemini SDK style); parse the query only when it can hold one. */
function queryOf(target: string): URLSearchParams | undefined {
  const q = target.indexOf("?");
  return q !== -1 && target.includes("key=", q) ? new URLSearchParams(target.slice(q + 1)) : undefined;
}

/**
 * The loopback LLM listener (SPEC §4): `/{provider}/{rest}` → the provider,
 * with the caller's JWT swapped for the user's own key from the vault.
 * Errors come back in the provider's own shape so SDKs raise native errors.
 */
export function createEgressApp(deps: EgressDeps): Hono<GatewayEnv> {
  const { runtime, quotas, vault, metrics } = deps;
  const app = new Hono<GatewayEnv>();
  app.use(deps.inflight.stage);
  app.use(accessLog("egress", deps.logger, deps.metrics));

  app.all("*", async (c) => {
    const current = runtime.current;
    const { incoming } = c.env;
    const rawTarget = incoming.url ?? "/";
    c.set("clientIp", incoming.socket.remoteAddress ?? "");
    const target = splitEgressTarget(rawTarget);
    const provider: ProviderPolicy | undefined = current.policy.providers.get(target.provider);
    if (!provider) {
      c.set("route", "unknown");
      throw new GatewayError(
        404,
        "unknown-provider",
        "Not Found",
        `Unknown provider "${target.provider}"; use one of: ${[...current.policy.providers.keys()].join(", ")}.`,
      );
    }
    c.set("route", provider.name);
    c.get("log")["provider"] = provider.name;

    const token = egressToken(incoming.headers, queryOf(rawTarget));
    if (token === undefined) throw unauthorized("missing");
    const identity = await current.verifier.verify(token);
    c.set("identity", identity);

    const method = incoming.method ?? "GET";
    const raw = await readBody(incoming, provider.guards.maxBodyBytes);
    const limits = current.policy.limitsFor(provider.name, method, target.path);
    let call: ReturnType<typeof prepareCall>;
    try {
      call = prepareCall(provider, target.path, method, raw, limits);
    } catch (err) {
      if (err instanceof GatewayError && err.guard)
        metrics.guardRejections.inc({ provider: provider.name, guard: err.guard });
      throw err;
    }
    if (call.info?.model) c.get("log")["model"] = call.info.model;
    const decision = await enforceLimits(c, quotas, limits, call.reserve);
    await withQuotaHeaders(decision, () =>
      callProvider({
        c,
        runtime: current,
        provider,
        target,
        method,
        call,
        decision,
        // Tiers can only change a concurrency cap the limit already has.
        holdsLease: limits.some((limit) => limit.concurrent !== undefined),
        identity,
        quotas,
        vault,
        metrics,
      }),
    );
    return RESPONSE_ALREADY_SENT;
  });

  app.onError(
    errorBoundary(deps.logger, (err, c) => {
      const api = runtime.current.policy.providers.get(c.get("route"))?.api ?? "openai";
      const rendered = providerErrorResponse(err, api);
      return c.body(rendered.body, rendered.status as 400, rendered.headers);
    }),
  );
  return app;
}
