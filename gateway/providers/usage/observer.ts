import type { ProviderApi } from "../../../policies/types.ts";
import { createSseFilter } from "./sse.ts";
import { createUsageTally, type Usage } from "./tally.ts";

/** Watches one upstream answer as it streams to the client and reads its token usage. */
export interface UsageObserver {
  /** Feed a chunk; returns the bytes to forward (the same chunk unless a usage-only event is removed). */
  push(chunk: Uint8Array): Uint8Array;
  /** End of body; returns the bytes still held back (possibly none). */
  end(): Uint8Array;
  /** Usage seen so far; undefined if none was found. */
  usage(): Usage | undefined;
}

export interface UsageObserverOptions {
  /** The request asked for a stream; decides the format when the answer has no content-type. */
  stream: boolean;
  /** Remove OpenAI's usage-only stream chunk (keygate asked for it, the client did not). */
  dropUsageChunk: boolean;
  /** The answer's content-type header. */
  contentType: string | undefined;
  /** Largest plain JSON body, or SSE line, read for usage; larger ones pass unread. Default 1 MiB. */
  maxBufferBytes?: number;
}

const DEFAULT_MAX_BUFFER = 1024 * 1024;
const DATA = Buffer.from("data:");
const SPACE = 0x20;
// Every usage object names a token counter; these never occur unescaped inside a JSON string,
// so a line without them (e.g. OpenAI's `"usage":null` chunks) is not decoded at all.
const OPENAI_MARK = Buffer.from('_tokens"');
const GOOGLE_MARK = Buffer.from('TokenCount"');

function formatOf(contentType: string | undefined, stream: boolean): "sse" | "json" | "other" {
  if (contentType === undefined || contentType === "") return stream ? "sse" : "json";
  const type = contentType.toLowerCase();
  if (type.includes("text/event-stream")) return "sse";
  return type.includes("json") ? "json" : "other";
}

function isUsageOnlyChunk(obj: unknown): boolean {
  if (typeof obj !== "object" || obj === null) return false;
  const { choices, usage } = obj as { choices?: unknown; usage?: unknown };
  return Array.isArray(choices) && choices.length === 0 && typeof usage === "object" && usage !== null;
}

function isDataLine(line: Buffer): boolean {
  if (line.length < DATA.length) return false;
  for (let i = 0; i < DATA.length; i++) if (line[i] !== DATA[i]) return false;
  return true;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // not JSON (e.g. `[DONE]`, a truncated body): carries no usage
  }
}

/**
 * Reads usage from an answer without buffering a stream: SSE is parsed line
 * by line, decoding only `data:` lines that name a token counter; a plain JSON
 * answer (Gemini's streamed JSON array included) is kept up to
 * `maxBufferBytes` and parsed at the end.
 *
 * @example
 * const observer = createUsageObserver("anthropic", { stream: true, dropUsageChunk: false, contentType });
 * for await (const chunk of upstream) client.write(observer.push(chunk));
 * client.end(observer.end()); settle(observer.usage());
 */
export function createUsageObserver(api: ProviderApi, options: UsageObserverOptions): UsageObserver {
  const tally = createUsageTally(api);
  const maxBytes = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`maxBufferBytes must be a positive integer, got ${maxBytes}`);
  }
  const usage = () => tally.usage();
  const format = formatOf(options.contentType, options.stream);

  if (format === "sse") {
    const mark = api === "google" ? GOOGLE_MARK : OPENAI_MARK;
    const dropUsageChunk = options.dropUsageChunk && api === "openai";
    const filter = createSseFilter({
      canDrop: dropUsageChunk,
      maxLineBytes: maxBytes,
      onLine(line) {
        if (!isDataLine(line) || line.indexOf(mark) === -1) return false;
        const start = line[DATA.length] === SPACE ? DATA.length + 1 : DATA.length;
        const obj = parse(line.toString("utf8", start));
        tally.absorb(obj);
        return dropUsageChunk && isUsageOnlyChunk(obj);
      },
    });
    return { push: filter.push, end: filter.end, usage };
  }

  if (format === "json") {
    let parts: Buffer[] = [];
    let size = 0;
    return {
      push(chunk) {
        size += chunk.byteLength;
        if (size <= maxBytes) parts.push(Buffer.from(chunk));
        else parts = [];
        return chunk;
      },
      end() {
        if (size <= maxBytes && size > 0) {
          const body = parse(Buffer.concat(parts).toString("utf8"));
          // Gemini's streamGenerateContent without alt=sse answers a JSON array of chunks.
          if (Array.isArray(body)) for (const item of body) tally.absorb(item);
          else tally.absorb(body);
        }
        parts = [];
        return new Uint8Array(0);
      },
      usage,
    };
  }

  return { push: (chunk) => chunk, end: () => new Uint8Array(0), usage };
}
