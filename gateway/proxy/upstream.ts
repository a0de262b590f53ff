import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { Pool } from "undici";
import { GatewayError } from "../errors.ts";
import type { Metrics } from "../metrics.ts";
import type { HeaderMap } from "./headers.ts";
import { AnswerRelay, type RelayOptions } from "./relay.ts";

export interface UpstreamOptions {
  /** `http(s)://host:port` — the pool's only origin. */
  readonly origin: string;
  /** Label for metrics and error messages: `app` or the provider name. */
  readonly name: string;
  readonly connectTimeoutMs: number;
  /** Waiting for response headers, and for each body chunk (idle). */
  readonly timeoutMs: number;
  /** Keep-alive connections kept open to the upstream. */
  readonly connections?: number;
}

export interface ForwardRequest {
  readonly method: string;
  /** Path and query, already normalised by the caller. */
  readonly path: string;
  readonly headers: HeaderMap;
  /** The client's body stream, a buffered body, or null. */
  readonly body: Readable | Buffer | string | null;
  /** Headers keygate adds to the answer (request id, RateLimit, …). */
  readonly answerHeaders: Readonly<Record<string, string>>;
  /** Egress hook: sees status and upstream headers, may rewrite headers and return a body filter (see relay.ts). */
  readonly onResponse?: RelayOptions["onResponse"];
}

export interface Upstream {
  readonly origin: string;
  /**
   * Sends the request and streams the answer into `res`. Resolves when the
   * answer is fully written (or the client went away). Throws a
   * `GatewayError` (502/503/504) only if nothing was written yet.
   */
  forward(request: ForwardRequest, res: ServerResponse): Promise<void>;
  /** A GET whose body is discarded: only the status matters (key verification). */
  status(path: string, headers: HeaderMap): Promise<number>;
  close(): Promise<void>;
}

function translate(err: unknown, name: string): GatewayError {
  const code = (err as { code?: string }).code ?? "";
  const cause = { cause: err };
  if (
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT"
  ) {
    return new GatewayError(
      504,
      "upstream-timeout",
      "Upstream Timeout",
      `${name} did not answer in time; retry later.`,
      cause,
    );
  }
  if (code === "ECONNREFUSED") {
    return new GatewayError(
      503,
      "upstream-unavailable",
      "Upstream Unavailable",
      `${name} refused the connection; it may be restarting, retry shortly.`,
      cause,
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EHOSTUNREACH" || code === "ENETUNREACH") {
    return new GatewayError(
      502,
      "upstream-unreachable",
      "Bad Gateway",
      `${name} cannot be reached (${code}); check its address in policies.yaml.`,
      cause,
    );
  }
  return new GatewayError(
    502,
    "upstream-error",
    "Bad Gateway",
    `${name} closed the connection before answering; retry.`,
    cause,
  );
}

function errorKind(err: GatewayError): string {
  return err.status === 504 ? "timeout" : err.slug === "upstream-error" ? "reset" : "connect";
}

export function createUpstream(options: UpstreamOptions, metrics: Metrics): Upstream {
  const pool = new Pool(options.origin, {
    connections: options.connections ?? 256,
    keepAliveTimeout: 30_000,
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });

  /** The error to answer with for a failed call, counted. */
  const failed = (err: unknown): GatewayError => {
    const translated = translate(err, options.name);
    metrics.upstreamErrors.inc({ upstream: options.name, kind: errorKind(translated) });
    return translated;
  };

  return {
    origin: options.origin,
    forward(request, res) {
      return new Promise<void>((resolve, reject) => {
        const relay = new AnswerRelay(res, {
          answerHeaders: request.answerHeaders,
          onResponse: request.onResponse,
          mayHoldWhole: request.method !== "HEAD",
          onFailure: (err) => reject(failed(err)),
          onCut: () => metrics.upstreamErrors.inc({ upstream: options.name, kind: "reset" }),
          onDone: resolve,
        });
        pool.dispatch(
          {
            method: request.method as "GET",
            path: request.path,
            headers: request.headers,
            body: request.body,
          },
          relay,
        );
      });
    },
    async status(path, headers) {
      try {
        const answer = await pool.request({ method: "GET", path, headers });
        await answer.body.dump();
        return answer.statusCode;
      } catch (err) {
        throw failed(err);
      }
    },
    close: () => pool.close(),
  };
}
