import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import type { Readable, Transform } from "node:stream";
import { Pool } from "undici";
import { GatewayError } from "../errors.ts";
import type { Metrics } from "../metrics.ts";
import { forwardableHeaders, type HeaderMap } from "./headers.ts";

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
  /**
   * Egress hook: sees status and upstream headers, may rewrite headers and
   * return a transform for the body (scrubbing, usage). When it returns one,
   * `content-length` is dropped because the body length may change.
   */
  readonly onResponse?: (status: number, headers: HeaderMap) => Transform | undefined;
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
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT") {
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

/**
 * Streams an upstream body (through `transform`, if any) into the client's
 * response with backpressure; resolves when the response is closed. An
 * upstream failure mid-body cuts the client connection (the status is
 * already sent); a client that leaves destroys the upstream body, which
 * cancels the upstream call. Plain `pipe` rather than `stream.pipeline`:
 * pipeline allocates and aborts an AbortController for every response.
 */
function relay(
  body: Readable,
  transform: Transform | undefined,
  res: ServerResponse,
  onUpstreamError: () => void,
) {
  return new Promise<void>((resolve) => {
    const fail = () => {
      onUpstreamError();
      res.destroy();
    };
    body.once("error", fail);
    transform?.once("error", fail);
    res.once("close", () => {
      if (!res.writableFinished) body.destroy();
      resolve();
    });
    if (transform) body.pipe(transform).pipe(res);
    else body.pipe(res);
  });
}

export function createUpstream(options: UpstreamOptions, metrics: Metrics): Upstream {
  const pool = new Pool(options.origin, {
    connections: options.connections ?? 256,
    keepAliveTimeout: 30_000,
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });

  return {
    origin: options.origin,
    async forward(request, res) {
      // A client that goes away before the upstream answers cancels the call. undici takes any
      // emitter of `abort` as a signal: far cheaper per request than an AbortController.
      const cancel = new EventEmitter();
      const onClose = () => cancel.emit("abort");
      res.once("close", onClose);
      let answer: Awaited<ReturnType<Pool["request"]>>;
      try {
        answer = await pool.request({
          method: request.method as "GET",
          path: request.path,
          headers: request.headers,
          body: request.body,
          signal: cancel,
        });
      } catch (err) {
        res.off("close", onClose);
        if (res.destroyed) return;
        const translated = translate(err, options.name);
        metrics.upstreamErrors.inc({ upstream: options.name, kind: errorKind(translated) });
        throw translated;
      }
      res.off("close", onClose);
      const headers = forwardableHeaders(answer.headers);
      const transform = request.onResponse?.(answer.statusCode, headers);
      if (transform) delete headers["content-length"];
      // Lower-case to replace (not duplicate) an upstream header of the same name: undici's names are lower-case.
      for (const name in request.answerHeaders)
        headers[name.toLowerCase()] = request.answerHeaders[name] as string;
      res.writeHead(answer.statusCode, headers);
      // An event stream's client should see the status before the first event (a model may think for
      // seconds); other answers send headers with the first body chunk, saving a write.
      const type = headers["content-type"];
      if (typeof type === "string" && type.startsWith("text/event-stream")) res.flushHeaders();
      await relay(answer.body, transform, res, () =>
        metrics.upstreamErrors.inc({ upstream: options.name, kind: "reset" }),
      );
    },
    async status(path, headers) {
      try {
        const answer = await pool.request({ method: "GET", path, headers });
        await answer.body.dump();
        return answer.statusCode;
      } catch (err) {
        const translated = translate(err, options.name);
        metrics.upstreamErrors.inc({ upstream: options.name, kind: errorKind(translated) });
        throw translated;
      }
    },
    close: () => pool.close(),
  };
}
