import type { Context } from "hono";
import type { ProviderPolicy } from "../../policies/types.ts";
import type { Identity } from "../auth/verifier.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayEnv } from "../http/context.ts";
import type { Decision, QuotaService } from "../limits/quota-service.ts";
import type { Metrics } from "../metrics.ts";
import { isClientCredential, setProviderKey } from "../providers/credentials.ts";
import { upstreamUrl } from "../providers/path.ts";
import { forwardableHeaders } from "../proxy/headers.ts";
import type { Runtime } from "../runtime.ts";
import { scrubHeaders } from "../scrub/shapes.ts";
import type { Vault } from "../vault/vault.ts";
import { answerTap } from "./answer-tap.ts";
import type { PreparedCall } from "./prepare.ts";
import { settleCall } from "./settle.ts";

/** Open streams renew their concurrency leases this often (leases expire if an instance dies). */
const LEASE_RENEW_MS = 20_000;

export interface ProviderCall {
  readonly c: Context<GatewayEnv>;
  readonly runtime: Runtime;
  readonly provider: ProviderPolicy;
  readonly target: { readonly path: string; readonly query: string };
  readonly method: string;
  readonly call: PreparedCall;
  readonly decision: Extract<Decision, { allowed: true }> | undefined;
  /** Some matching limit has `concurrent`: the call holds a lease until it ends. */
  readonly holdsLease: boolean;
  readonly identity: Identity;
  readonly quotas: QuotaService;
  readonly vault: Vault;
  readonly metrics: Metrics;
}

const keyMissing = (provider: string) =>
  new GatewayError(
    400,
    "provider-key-missing",
    "Provider Key Missing",
    `No ${provider} API key is stored for this user; add one with PUT /_keygate/keys/${provider}.`,
  );

/**
 * keygate's quota headers on the answer. OpenAI-dialect providers also get
 * `x-ratelimit-remaining-requests` / `-tokens` (keygate's, replacing the
 * provider's org-wide figures) so client code reading them keeps working.
 */
function answerHeaders(
  provider: ProviderPolicy,
  decision: ProviderCall["decision"],
  requestId: string,
): Record<string, string> {
  const headers: Record<string, string> = { ...(decision?.headers ?? {}), "x-request-id": requestId };
  if (provider.api === "openai" && decision) {
    const { requests, tokens } = decision.remaining;
    if (requests !== undefined) headers["x-ratelimit-remaining-requests"] = String(requests);
    if (tokens !== undefined) headers["x-ratelimit-remaining-tokens"] = String(tokens);
  }
  return headers;
}

/**
 * Sends the prepared call with the user's own key and streams the answer
 * back; then settles the token reservation and releases concurrency leases,
 * whatever happened (success, upstream failure, client abort).
 */
export async function callProvider(p: ProviderCall): Promise<void> {
  const { c, provider, decision, quotas } = p;
  const { incoming, outgoing } = c.env;
  const leased = decision !== undefined && p.holdsLease;
  const renew = leased ? setInterval(() => void quotas.renew(decision.ticket), LEASE_RENEW_MS) : undefined;
  renew?.unref();
  if (leased) p.metrics.concurrencyInUse.inc({ provider: provider.name });
  let tap: ReturnType<typeof answerTap> | undefined;
  let status = 0;
  try {
    const apiKey = await p.vault.reveal(p.identity.user, provider.name);
    if (apiKey === undefined) throw keyMissing(provider.name);
    const keep = provider.keepHeaders;
    const headers = forwardableHeaders(incoming.headers, (name) => isClientCredential(name, keep));
    setProviderKey(headers, provider.auth, apiKey);
    // Identity encoding: compressed answers could not be scrubbed.
    headers["accept-encoding"] = "identity";
    headers["x-request-id"] = c.get("requestId");
    if (p.call.body.length > 0 || p.method !== "GET") headers["content-length"] = String(p.call.body.length);
    const url = upstreamUrl(provider.baseUrl, p.target.path, p.target.query);
    const upstream = p.runtime.providers.get(provider.name);
    if (!upstream)
      throw new GatewayError(404, "unknown-provider", "Not Found", `Unknown provider "${provider.name}".`);
    await upstream.forward(
      {
        method: p.method,
        path: `${url.pathname}${url.search}`,
        headers,
        body: p.method === "GET" || p.method === "HEAD" ? null : p.call.body,
        answerHeaders: answerHeaders(provider, decision, c.get("requestId")),
        onResponse(answerStatus, answerHeaders) {
          status = answerStatus;
          scrubHeaders(answerHeaders, apiKey);
          const contentType = answerHeaders["content-type"];
          tap = answerTap(answerStatus, apiKey, {
            api: provider.api,
            observeUsage: p.call.reserve !== undefined,
            stream: p.call.info?.stream ?? false,
            dropUsageChunk: p.call.dropUsageChunk,
            contentType: typeof contentType === "string" ? contentType : undefined,
          });
          return tap;
        },
      },
      outgoing,
    );
  } finally {
    clearInterval(renew);
    if (leased) p.metrics.concurrencyInUse.dec({ provider: provider.name });
    if (decision) {
      const usage = tap?.usage();
      c.get("log")["status_upstream"] = status;
      if (usage) c.get("log")["tokens"] = usage;
      await settleCall({
        quotas,
        ticket: decision.ticket,
        provider: provider.name,
        reserved: p.call.reserve,
        usage,
        answered: status >= 200 && status < 300,
        metrics: p.metrics,
      });
    }
  }
}
