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
  /** Egress hook: sees status and upstream headers, may rewrite headers and return a body rewrite. */
  readonly onResponse?: (status: number, headers: HeaderMap) => BodyRewrite | undefined;
}

/**
 * How an answer's body is rewritten (egress: scrubbing, usage). An answer
 * that declares a length of at most `WHOLE_BODY_MAX_BYTES` and is not an
 * event stream is read whole and sent as `whole(body)` with its exact
 * `content-length`: a JSON answer is useless to a client until its last byte
 * anyway, and one write (headers and body, no chunked framing) is far cheaper
 * than a stream. Any other answer streams through `stream()`, chunked.
 */
export interface BodyRewrite {
  stream(): Transform;
  whole(body: Uint8Array): Uint8Array;
}

/** Largest answer read whole (the usage observer already holds JSON bodies up to 1 MiB). */
export const WHOLE_BODY_MAX_BYTES = 1024 * 1024;

function readsWhole(headers: HeaderMap): boolean {
  const length = headers["content-length"];
  const type = headers["content-type"];
  return (
    typeof length === "string" &&
    Number(length) <= WHOLE_BODY_MAX_BYTES &&
    !(typeof type === "string" && type.startsWith("text/event-stream"))
  );
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

  /** The error to answer with for a failed call, counted. */
  const failed = (err: unknown): GatewayError => {
    const translated = translate(err, options.name);
    metrics.upstreamErrors.inc({ upstream: options.name, kind: errorKind(translated) });
    return translated;
  };

  return {
    origin: options.origin,
    async forward(request, res) {
      // A client that goes away before the answer is sent cancels the call. undici takes any
      // emitter of `abort` as a signal: far cheaper per request than an AbortController.
      const cancel = new EventEmitter();
      const onClose = () => cancel.emit("abort");
      res.once("close", onClose);
      let answer: Awaited<ReturnType<Pool["request"]>>;
      let headers: HeaderMap;
      let rewrite: BodyRewrite | undefined;
      let whole: Uint8Array | undefined;
      try {
        answer = await pool.request({
          method: request.method as "GET",
          path: request.path,
          headers: request.headers,
          body: request.body,
          signal: cancel,
        });
        headers = forwardableHeaders(answer.headers);
        rewrite = request.onResponse?.(answer.statusCode, headers);
        if (rewrite && readsWhole(headers))
          whole = rewrite.whole(new Uint8Array(await answer.body.arrayBuffer()));
      } catch (err) {
        if (res.destroyed) return;
        throw failed(err);
      } finally {
        res.off("close", onClose);
      }
      if (whole) headers["content-length"] = String(whole.length);
      const transform = whole ? undefined : rewrite?.stream();
      if (transform) delete headers["content-length"];
      // Lower-case to replace (not duplicate) an upstream header of the same name: undici's names are lower-case.
      for (const name in request.answerHeaders)
        headers[name.toLowerCase()] = request.answerHeaders[name] as string;
      res.writeHead(answer.statusCode, headers);
      if (whole) {
        res.end(whole);
        return;
      }
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
        throw failed(err);
      }
    },
    close: () => pool.close(),
  };
}
