/**
 * The bench's wire payloads, built once at start-up with exact sizes so every
 * setup moves the same bytes: a 188-byte chat request, a 635-byte chat
 * completion, and an SSE stream of chat chunks ending in a usage chunk.
 */

/** Size of the chat request body, as in the measured baseline. */
export const REQUEST_BYTES = 188;
/** Size of the non-streamed chat completion body. */
export const ANSWER_BYTES = 635;

/** Pads `build(pad)` with `x`s until its UTF-8 length is exactly `size`. */
function exactly(size: number, build: (pad: string) => string): Buffer {
  const base = Buffer.byteLength(build(""));
  if (base > size) throw new Error(`payload skeleton is ${base} bytes, more than ${size}`);
  const out = Buffer.from(build("x".repeat(size - base)));
  if (out.length !== size) throw new Error(`payload is ${out.length} bytes, wanted ${size}`);
  return out;
}

/** The chat request body; `stream` adds `"stream":true` and asks for usage in the last chunk. */
export function chatRequest(stream: boolean): Buffer {
  const extra = stream ? ',"stream":true,"stream_options":{"include_usage":true}' : "";
  return exactly(
    REQUEST_BYTES + (stream ? Buffer.byteLength(extra) : 0),
    (pad) =>
      `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Summarise the bench in one line ${pad}"}],"max_tokens":64${extra}}`,
  );
}

/** The non-streamed completion; usage fields let keygate settle token quotas. */
export function chatAnswer(): Buffer {
  return exactly(
    ANSWER_BYTES,
    (pad) =>
      `{"id":"chatcmpl-bench","object":"chat.completion","created":1764000000,"model":"gpt-4o-mini",` +
      `"choices":[{"index":0,"message":{"role":"assistant","content":"${pad}"},"finish_reason":"stop"}],` +
      `"usage":{"prompt_tokens":24,"completion_tokens":64,"total_tokens":88}}`,
  );
}

/**
 * SSE chunks of a streamed completion: `count` content deltas, a usage chunk,
 * then `data: [DONE]`. The first element is meant to be written at once.
 */
export function chatStream(count: number): Buffer[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`stream chunk count must be ≥ 1, got ${count}`);
  const head = `{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini"`;
  const chunks: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const delta = i === 0 ? '{"role":"assistant","content":""}' : `{"content":"token ${i} of the bench "}`;
    chunks.push(
      Buffer.from(`data: ${head},"choices":[{"index":0,"delta":${delta},"finish_reason":null}]}\n\n`),
    );
  }
  chunks.push(
    Buffer.from(
      `data: ${head},"choices":[],"usage":{"prompt_tokens":24,"completion_tokens":${count},"total_tokens":${24 + count}}}\n\n` +
        "data: [DONE]\n\n",
    ),
  );
  return chunks;
}
