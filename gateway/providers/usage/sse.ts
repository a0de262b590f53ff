/**
 * A server-sent-events byte filter that never holds the stream: it splits
 * lines with `Buffer.indexOf`, keeps only the incomplete last line, and hands
 * every complete non-blank line (without its CR/LF) to `onLine`.
 *
 * When `canDrop` is set, `onLine` may mark the current event for removal; the
 * filter then holds each event's bytes until its blank line (an SSE client
 * cannot dispatch an event before it either) and forwards or removes the
 * event whole, so every other byte and event boundary is kept.
 */

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

export interface SseFilterOptions {
  /** A complete non-blank line; return true to remove the event it belongs to. */
  onLine(line: Buffer): boolean;
  /** False: chunks are forwarded as given and `onLine`'s answer is ignored. */
  canDrop: boolean;
  /** Longest line kept for `onLine`, and largest event held back; longer ones pass unread. */
  maxLineBytes: number;
}

export interface SseFilter {
  push(chunk: Uint8Array): Uint8Array;
  end(): Uint8Array;
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function stripCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

export function createSseFilter(options: SseFilterOptions): SseFilter {
  const { onLine, canDrop, maxLineBytes } = options;
  // The incomplete last line, copied (the caller may reuse chunk memory).
  let tail: Buffer[] = [];
  let tailBytes = 0;
  let tailTooLong = false;
  // Drop mode: the current event's bytes from earlier chunks, not yet forwarded.
  let held: Buffer[] = [];
  let heldBytes = 0;
  let dropEvent = false;
  // The current event outgrew maxLineBytes: it streams through and is never removed.
  let passEvent = false;

  /** The complete line ending with `piece`, or undefined when it was too long to keep. */
  function completeLine(piece: Buffer): Buffer | undefined {
    if (tail.length === 0 && !tailTooLong) return stripCr(piece);
    const tooLong = tailTooLong || tailBytes + piece.length > maxLineBytes;
    const line = tooLong ? undefined : stripCr(Buffer.concat([...tail, piece]));
    tail = [];
    tailBytes = 0;
    tailTooLong = false;
    return line;
  }

  function keepTail(piece: Buffer): void {
    if (piece.length === 0 || tailTooLong) return;
    tailBytes += piece.length;
    if (tailBytes > maxLineBytes) {
      tail = [];
      tailTooLong = true;
    } else {
      tail.push(Buffer.from(piece));
    }
  }

  function push(chunk: Uint8Array): Uint8Array {
    const buf = asBuffer(chunk);
    const out: Buffer[] = [];
    let runStart = 0; // start of the bytes of `buf` still to forward
    let eventStart = 0; // start in `buf` of the current (incomplete) event
    let lineStart = 0;
    for (let nl = buf.indexOf(LF); nl !== -1; nl = buf.indexOf(LF, lineStart)) {
      const line = completeLine(buf.subarray(lineStart, nl));
      lineStart = nl + 1;
      if (line === undefined || line.length > 0) {
        if (line !== undefined && onLine(line) && canDrop && !passEvent) dropEvent = true;
        continue;
      }
      if (!canDrop) continue;
      // Blank line: the event ends at lineStart.
      if (dropEvent) {
        if (eventStart > runStart) out.push(buf.subarray(runStart, eventStart));
        runStart = lineStart;
      } else if (held.length > 0) {
        out.push(...held);
      }
      held = [];
      heldBytes = 0;
      dropEvent = false;
      passEvent = false;
      eventStart = lineStart;
    }
    keepTail(buf.subarray(lineStart));
    if (!canDrop) return chunk;

    let runEnd = buf.length;
    if (!passEvent && eventStart < buf.length) {
      heldBytes += buf.length - eventStart;
      if (heldBytes > maxLineBytes) {
        // Too large to be a usage-only chunk: release it and let the rest stream.
        out.push(...held);
        held = [];
        heldBytes = 0;
        passEvent = true;
        dropEvent = false;
      } else {
        held.push(Buffer.from(buf.subarray(eventStart)));
        runEnd = eventStart;
      }
    }
    if (runEnd > runStart) out.push(buf.subarray(runStart, runEnd));
    if (out.length === 0) return EMPTY;
    const first = out[0]!;
    if (out.length === 1 && first.length === buf.length) return chunk;
    return Buffer.concat(out);
  }

  function end(): Uint8Array {
    if (tail.length > 0 && !tailTooLong) {
      const line = completeLine(Buffer.alloc(0));
      if (line !== undefined && line.length > 0 && onLine(line) && canDrop && !passEvent) dropEvent = true;
    }
    tail = [];
    if (held.length === 0 || dropEvent) return EMPTY;
    const rest = Buffer.concat(held);
    held = [];
    return rest;
  }

  return { push, end };
}
