/**
 * The process logger: pino JSON lines with two layers of secret protection.
 *
 * 1. Field redaction (`redact`): credential headers and secret-named keys are
 *    replaced before serialization, whatever their value looks like.
 * 2. Value scrubbing (`hooks.streamWrite`): the finished line is searched for
 *    JWT and provider-key shapes, so a secret inside a message, an error's
 *    message or stack, or an unexpected field is caught too.
 */
import { type DestinationStream, type Logger, type LoggerOptions, levels, pino } from "pino";
import { REDACTED } from "../secrets/patterns.ts";
import { redactPaths } from "./redact-paths.ts";
import { scrubSecrets } from "./scrub.ts";

export interface LoggerSettings {
  /** A pino level name (`fatal` … `trace`, `silent`); default `info`. */
  level?: string | undefined;
  /** Where JSON lines go; default stdout. */
  destination?: DestinationStream | undefined;
}

/**
 * Stdout is written in batches: a write per request line was ~5 % of the
 * gateway's CPU under load. Lines wait until this many bytes are buffered, or
 * at most `LOG_FLUSH_MS`; pino flushes on exit, so only a SIGKILL can lose the
 * last batch. Each batch is one synchronous write (pino's default): ~3 µs of
 * CPU for 4 KiB to a pipe, against ~27 µs for an asynchronous one, which
 * pays the libuv thread-pool round trip. A stdout that stops draining would
 * stall the event loop; the shipped task definition's `awslogs` driver runs
 * in `non-blocking` mode (it drops lines rather than block the writer).
 */
const LOG_BATCH_BYTES = 4096;
const LOG_FLUSH_MS = 250;

function stdoutBatches(): DestinationStream {
  const stdout = pino.destination({
    dest: 1,
    sync: true,
    minLength: LOG_BATCH_BYTES,
    periodicFlush: LOG_FLUSH_MS,
  });
  // pino only flushes its asynchronous destinations at exit; a batch held by this one would be lost.
  process.once("exit", () => {
    try {
      stdout.flushSync();
    } catch {
      // stdout is gone (closed pipe): nothing left to write to.
    }
  });
  return stdout;
}

/** Levels a caller may ask for, for the startup error message. */
const LEVEL_NAMES = [...Object.keys(levels.values), "silent"];

/**
 * Creates the logger. Throws at once for an unknown level.
 * @example const log = createLogger({ level: process.env.LOG_LEVEL });
 */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const level = settings.level ?? "info";
  if (!LEVEL_NAMES.includes(level)) {
    throw new Error(`LOG_LEVEL: unknown level "${level}"; use one of ${LEVEL_NAMES.join(", ")}`);
  }
  const options: LoggerOptions = {
    level,
    redact: { paths: redactPaths(), censor: REDACTED },
    hooks: { streamWrite: scrubSecrets },
    // `error` as well as pino's `err`: an Error under `error` would otherwise serialize as `{}`.
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    // Level names instead of numbers: log pipelines and humans read `"level":"warn"` without a lookup table.
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(options, settings.destination ?? stdoutBatches());
}

/** Writes out any buffered log lines (call before the process exits). */
export function flushLogs(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

/** The fields of the startup line: each listener's URL, e.g. `http://127.0.0.1:43121`. */
export interface ListeningFields {
  readonly ingress: string;
  readonly egress: string;
  readonly admin: string;
  readonly [extra: string]: unknown;
}

/**
 * Writes the `{"msg":"listening",…}` line that SPEC promises at every log
 * level, `error` and `silent` included: supervisors and tests wait for it.
 * A child at level `info` shares the parent's destination, redaction and hooks.
 * @example logListening(log, { ingress: "http://0.0.0.0:8080", egress: "…", admin: "…" });
 */
export function logListening(logger: Logger, fields: ListeningFields): void {
  logger.child({}, { level: "info" }).info(fields, "listening");
  // Supervisors wait for this line: do not leave it in the batch.
  logger.flush();
}
