/**
 * An in-memory pino destination: pass `destination` to `createLogger` and
 * assert on what would have reached stdout.
 */
import type { DestinationStream } from "pino";

export interface LogCapture {
  readonly destination: DestinationStream;
  /** Every line written so far, parsed as JSON. */
  lines(): Record<string, unknown>[];
  /** Everything written so far, exactly as written. */
  text(): string;
}

/**
 * @example const logs = captureLogs(); const log = createLogger({ destination: logs.destination });
 */
export function captureLogs(): LogCapture {
  const chunks: string[] = [];
  return {
    destination: {
      write(chunk: string) {
        chunks.push(chunk);
      },
    },
    lines() {
      return chunks
        .join("")
        .split("\n")
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    text() {
      return chunks.join("");
    },
  };
}
