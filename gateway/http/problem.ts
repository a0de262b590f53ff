import type { GatewayError } from "../errors.ts";

/** Body and headers of an RFC 9457 problem answer for a `GatewayError` (ingress and key API). */
export function problemResponse(err: GatewayError): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const problem: Record<string, unknown> = {
    type: `urn:keygate:problem:${err.slug}`,
    title: err.title,
    status: err.status,
    detail: err.detail,
  };
  if (err.rateLimit) problem["violated-policies"] = err.rateLimit.violated;
  return {
    status: err.status,
    headers: {
      ...err.headers,
      "content-type": "application/problem+json",
      "x-keygate-error": err.slug,
    },
    body: JSON.stringify(problem),
  };
}
