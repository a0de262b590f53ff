import type { ProviderApi } from "../../policies/types.ts";
import { createUsageObserver, type Usage } from "../providers/usage/index.ts";
import { createErrorBodyScrubber } from "../scrub/error-body.ts";
import { type BodyFilter, createKeyScrubber } from "../scrub/stream.ts";

/** The answer's body filter (see gateway/proxy/relay.ts), and what it read. */
export interface AnswerTap extends BodyFilter {
  /** Provider-reported usage seen in the body so far. */
  usage(): Usage | undefined;
}

/**
 * 2xx: usage is read on the way (and OpenAI's usage-only chunk dropped when
 * the client did not ask for it), then the exact key is scrubbed, holding back
 * at most key-length − 1 bytes.
 */
function answerFilter(
  key: string,
  observe: ((chunk: Uint8Array) => Uint8Array) | undefined,
  end: () => Uint8Array,
): BodyFilter {
  const scrubber = createKeyScrubber(key);
  return {
    push(chunk) {
      const passed = observe ? observe(chunk) : chunk;
      return passed.length > 0 ? scrubber.push(passed) : passed;
    },
    flush() {
      const tail = end();
      const scrubbed = tail.length > 0 ? scrubber.push(tail) : tail;
      const held = scrubber.flush();
      return held.length === 0 ? scrubbed : Buffer.concat([scrubbed, held]);
    },
  };
}

const NOTHING = () => new Uint8Array(0);

/**
 * The body path of an egress answer. Non-2xx bodies are buffered (up to 1 MiB) and scrubbed for
 * the key and any key shape.
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
    const filter = createErrorBodyScrubber(key);
    return { push: filter.push, flush: filter.flush, usage: () => undefined };
  }
  const observer = options.observeUsage
    ? createUsageObserver(options.api, {
        stream: options.stream,
        dropUsageChunk: options.dropUsageChunk,
        contentType: options.contentType,
      })
    : undefined;
  const filter = observer
    ? answerFilter(key, observer.push, observer.end)
    : answerFilter(key, undefined, NOTHING);
  return { push: filter.push, flush: filter.flush, usage: () => observer?.usage() };
}
