import { Transform } from "node:stream";
import type { ProviderApi } from "../../policies/types.ts";
import { createUsageObserver, type Usage, type UsageObserver } from "../providers/usage/index.ts";
import { scrubErrorBody } from "../scrub/shapes.ts";
import { createKeyScrubber } from "../scrub/stream.ts";

/** Error bodies are buffered (up to this) so key shapes can be scrubbed as a whole. */
const MAX_ERROR_BODY = 1024 * 1024;

export interface AnswerTap {
  readonly transform: Transform;
  /** Provider-reported usage seen in the body so far. */
  usage(): Usage | undefined;
}

/**
 * The body path of an egress answer. 2xx: bytes stream through as they
 * arrive — usage is read on the way (and OpenAI's usage-only chunk dropped
 * when the client did not ask for it), then the exact key is scrubbed,
 * holding back at most key-length − 1 bytes. Non-2xx: buffered (small) and
 * scrubbed for the key and any key shape.
 */
export function answerTap(
  status: number,
  key: string,
  options: {
    api: ProviderApi;
    observeUsage: boolean;
    stream: boolean;
    dropUsageChunk: boolean;
    contentType: string | undefined;
  },
): AnswerTap {
  if (status < 200 || status >= 300) {
    const chunks: Buffer[] = [];
    let size = 0;
    const overflow = createKeyScrubber(key);
    const transform = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (size < MAX_ERROR_BODY) {
          chunks.push(chunk);
          size += chunk.length;
          done();
        } else {
          done(null, overflow.push(chunk));
        }
      },
      flush(done) {
        this.push(scrubErrorBody(Buffer.concat(chunks), key));
        done(null, overflow.flush());
      },
    });
    return { transform, usage: () => undefined };
  }
  const scrubber = createKeyScrubber(key);
  const observer: UsageObserver | undefined = options.observeUsage
    ? createUsageObserver(options.api, {
        stream: options.stream,
        dropUsageChunk: options.dropUsageChunk,
        contentType: options.contentType,
      })
    : undefined;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const passed = observer ? observer.push(chunk) : chunk;
      done(null, passed.length > 0 ? scrubber.push(passed) : passed);
    },
    flush(done) {
      if (observer) {
        const tail = observer.end();
        if (tail.length > 0) this.push(scrubber.push(tail));
      }
      done(null, scrubber.flush());
    },
  });
  return { transform, usage: () => observer?.usage() };
}
