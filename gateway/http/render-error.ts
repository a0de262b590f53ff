import type { Context, ErrorHandler } from "hono";
import type { Logger } from "pino";
import { GatewayError, StoreUnavailableError } from "../errors.ts";
import { VaultError } from "../vault/errors.ts";
import type { GatewayEnv } from "./context.ts";

/** Any thrown value as the pipeline's one error type; unknown errors become a 500 that reveals nothing. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof VaultError && err.code === "invalid-input") {
    return new GatewayError(
      422,
      "invalid-key",
      "Unprocessable Content",
      "The key or id holds characters a provider key never has (spaces, control characters); copy the key again.",
      { cause: err },
    );
  }
  if (err instanceof StoreUnavailableError || err instanceof VaultError) {
    return new GatewayError(
      503,
      "store-unavailable",
      "Service Unavailable",
      "keygate's key or quota store cannot be reached right now; retry in a few seconds.",
      { cause: err },
    );
  }
  return new GatewayError(
    500,
    "internal",
    "Internal Server Error",
    "keygate failed to handle the request; retry, and report the x-request-id if it persists.",
    { cause: err },
  );
}

export type ErrorRenderer = (err: GatewayError, c: Context<GatewayEnv>) => Response;

/**
 * The listener's one error boundary: logs server-side failures with their
 * cause (the log scrubber removes secrets) and renders the error in the
 * listener's format.
 */
export function errorBoundary(logger: Logger, render: ErrorRenderer): ErrorHandler<GatewayEnv> {
  return function onGatewayError(err, c) {
    const error = toGatewayError(err);
    if (error.status >= 500) {
      logger.warn({ reqId: c.get("requestId"), slug: error.slug, err: error.cause ?? error }, error.detail);
    }
    c.get("log")["error"] = error.slug;
    return render(error, c);
  };
}
