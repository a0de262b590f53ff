/**
 * The one error type of the request pipeline.
 *
 * Every stage throws `GatewayError`; the listener's error handler renders it
 * once: as problem+json (RFC 9457) on ingress and the key API, in the
 * provider's own error shape on egress. `slug` is stable: it becomes the
 * problem `type` (`urn:keygate:problem:<slug>`) and the `x-keygate-error` header.
 */

export type ErrorSlug =
  | "unauthorized"
  | "rate-limited"
  | "store-unavailable"
  | "not-found"
  | "unknown-provider"
  | "provider-key-missing"
  | "invalid-key"
  | "payload-too-large"
  | "bad-request"
  | "guard-rejected"
  | "upstream-unreachable"
  | "upstream-unavailable"
  | "upstream-timeout"
  | "upstream-error"
  | "draining"
  | "internal";

/** What a 429 needs beyond the status: the limits it broke and how to retry. */
export interface RateLimitInfo {
  readonly violated: readonly string[];
  readonly retryAfterS: number;
  /** False when waiting cannot help soon (> 60 s, or the request can never fit). */
  readonly shouldRetry: boolean;
  /** Which budget ran out: `tokens` when any broken counter was a token quota (OpenAI's `error.type`). */
  readonly exhausted: "requests" | "tokens";
}

export interface GatewayErrorOptions {
  /** Extra response headers (e.g. `WWW-Authenticate`, `RateLimit`). */
  headers?: Record<string, string>;
  rateLimit?: RateLimitInfo;
  /** Name of the guard that rejected, for the provider-shaped error and metrics. */
  guard?: string;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly slug: ErrorSlug;
  readonly title: string;
  readonly headers: Record<string, string>;
  readonly rateLimit: RateLimitInfo | undefined;
  readonly guard: string | undefined;

  /** `detail` is shown to the client: it says what happened and what to do next, and never holds a secret. */
  constructor(
    status: number,
    slug: ErrorSlug,
    title: string,
    detail: string,
    options: GatewayErrorOptions = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.status = status;
    this.slug = slug;
    this.title = title;
    this.headers = options.headers ?? {};
    this.rateLimit = options.rateLimit;
    this.guard = options.guard;
  }

  get detail(): string {
    return this.message;
  }
}

/** Thrown by stores (quota counters, vault) when the backing service cannot answer. */
export class StoreUnavailableError extends Error {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what} is unavailable`, options);
    this.name = "StoreUnavailableError";
  }
}
