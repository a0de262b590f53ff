/**
 * keygate's own egress errors in each provider's error dialect (SPEC §4), so
 * the official SDKs raise their native typed errors (`OpenAI.RateLimitError`,
 * `Anthropic.AuthenticationError`, genai `ApiError` with `status`).
 *
 * The HTTP status is always the error's own; the table only picks the
 * dialect's words for it. Every answer carries `x-keygate-error: <slug>` so a
 * caller can tell keygate's errors from the provider's.
 */
import type { ProviderApi } from "../../policies/types.ts";
import type { ErrorSlug, GatewayError } from "../errors.ts";

interface Dialect {
  /** OpenAI `error.type` and `error.code`. */
  readonly openai: readonly [type: string, code: string];
  /** Anthropic `error.type`. */
  readonly anthropic: string;
  /** Google `error.status` (google.rpc.Code name). */
  readonly google: string;
}

const TABLE: Readonly<Record<ErrorSlug, Dialect>> = {
  "provider-key-missing": {
    openai: ["invalid_request_error", "provider_key_missing"],
    anthropic: "invalid_request_error",
    google: "INVALID_ARGUMENT",
  },
  unauthorized: {
    openai: ["invalid_request_error", "invalid_api_key"],
    anthropic: "authentication_error",
    google: "UNAUTHENTICATED",
  },
  "rate-limited": {
    openai: ["requests", "rate_limit_exceeded"],
    anthropic: "rate_limit_error",
    google: "RESOURCE_EXHAUSTED",
  },
  "store-unavailable": {
    openai: ["api_error", "service_unavailable"],
    anthropic: "api_error",
    google: "UNAVAILABLE",
  },
  "bad-request": {
    openai: ["invalid_request_error", "bad_request"],
    anthropic: "invalid_request_error",
    google: "INVALID_ARGUMENT",
  },
  "guard-rejected": {
    openai: ["invalid_request_error", "guard_rejected"],
    anthropic: "invalid_request_error",
    google: "INVALID_ARGUMENT",
  },
  "invalid-key": {
    openai: ["invalid_request_error", "invalid_key"],
    anthropic: "invalid_request_error",
    google: "INVALID_ARGUMENT",
  },
  "not-found": {
    openai: ["invalid_request_error", "not_found"],
    anthropic: "not_found_error",
    google: "NOT_FOUND",
  },
  "unknown-provider": {
    openai: ["invalid_request_error", "not_found"],
    anthropic: "not_found_error",
    google: "NOT_FOUND",
  },
  "payload-too-large": {
    openai: ["invalid_request_error", "request_too_large"],
    anthropic: "request_too_large",
    google: "INVALID_ARGUMENT",
  },
  "upstream-unreachable": {
    openai: ["api_error", "upstream_unreachable"],
    anthropic: "api_error",
    google: "UNAVAILABLE",
  },
  "upstream-unavailable": {
    openai: ["api_error", "upstream_unavailable"],
    anthropic: "api_error",
    google: "UNAVAILABLE",
  },
  "upstream-timeout": {
    openai: ["api_error", "upstream_timeout"],
    anthropic: "timeout_error",
    google: "DEADLINE_EXCEEDED",
  },
  "upstream-error": {
    openai: ["api_error", "upstream_error"],
    anthropic: "api_error",
    google: "UNAVAILABLE",
  },
  draining: { openai: ["api_error", "service_unavailable"], anthropic: "api_error", google: "UNAVAILABLE" },
  internal: { openai: ["api_error", "internal_error"], anthropic: "api_error", google: "INTERNAL" },
};

/** A rendered answer, ready for `res.writeHead(status, headers).end(body)`. */
export interface ProviderErrorResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Renders a GatewayError in a provider's dialect: the error's status, a JSON
 * body in the provider's shape, `content-type: application/json`,
 * `x-keygate-error: <slug>` and the error's own headers (`Retry-After`,
 * `RateLimit`, `WWW-Authenticate`, …).
 *
 * @example const r = providerErrorResponse(err, provider.api); res.writeHead(r.status, r.headers).end(r.body);
 */
export function providerErrorResponse(err: GatewayError, api: ProviderApi): ProviderErrorResponse {
  const dialect = TABLE[err.slug] ?? TABLE.internal;
  const message = messageOf(err);
  let body: unknown;
  if (api === "anthropic") {
    body = { type: "error", error: { type: dialect.anthropic, message } };
  } else if (api === "google") {
    body = { error: { code: err.status, message, status: dialect.google } };
  } else {
    const [type, code] = dialect.openai;
    body = {
      error: { message, type: err.slug === "rate-limited" ? rateLimitType(err) : type, param: null, code },
    };
  }
  return {
    status: err.status,
    headers: { ...err.headers, "content-type": "application/json", "x-keygate-error": err.slug },
    body: JSON.stringify(body),
  };
}

/** OpenAI names the exhausted budget: `tokens` when any broken limit is a token limit. */
function rateLimitType(err: GatewayError): "requests" | "tokens" {
  return err.rateLimit?.exhausted ?? "requests";
}

function messageOf(err: GatewayError): string {
  if (err.slug === "guard-rejected" && err.guard !== undefined && !err.detail.includes(err.guard)) {
    return `Rejected by guard "${err.guard}": ${err.detail}`;
  }
  return err.detail;
}
