/** Mock Anthropic API: messages (plain and SSE events), models, errors. */
import { json, type MockCall, type MockReply, sse, textPieces, usageOf } from "./types.ts";

export function anthropicError(status: number, type: string, message: string): MockReply {
  return json(status, { type: "error", error: { type, message }, request_id: "req_mock" });
}

/** Real Anthropic says only "invalid x-api-key"; the mock quotes the key to exercise scrubbing. */
export function anthropicBadKey(status: number, key: string): MockReply {
  return anthropicError(status, "authentication_error", `invalid x-api-key: ${key}`);
}

export function anthropicMissingKey(): MockReply {
  return anthropicError(401, "authentication_error", "x-api-key header is required");
}

export function anthropicFailure(status: number): MockReply {
  const type =
    status === 429
      ? "rate_limit_error"
      : status === 529
        ? "overloaded_error"
        : status === 504
          ? "timeout_error"
          : "api_error";
  return anthropicError(
    status,
    status < 500 && status !== 429 ? "invalid_request_error" : type,
    `Mock failure ${status}.`,
  );
}

function event(name: string, data: Record<string, unknown>): string {
  return `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
}

function messages(call: MockCall): MockReply {
  const model = String(call.json?.["model"] ?? "claude-mock");
  const pieces = textPieces(call);
  const u = usageOf(call);
  const message = {
    id: "msg_mock",
    type: "message",
    role: "assistant",
    model,
    stop_reason: "end_turn",
    stop_sequence: null,
  };
  if (call.json?.["stream"] !== true) {
    return json(200, {
      ...message,
      content: [{ type: "text", text: pieces.join("") }],
      usage: {
        input_tokens: u.input,
        output_tokens: u.output,
        cache_read_input_tokens: u.cached,
        cache_creation_input_tokens: 0,
      },
    });
  }
  return sse([
    event("message_start", {
      message: {
        ...message,
        content: [],
        stop_reason: null,
        usage: {
          input_tokens: u.input,
          output_tokens: 1,
          cache_read_input_tokens: u.cached,
          cache_creation_input_tokens: 0,
        },
      },
    }),
    event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ...pieces.map((text) => event("content_block_delta", { index: 0, delta: { type: "text_delta", text } })),
    event("content_block_stop", { index: 0 }),
    event("message_delta", {
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: u.output },
    }),
    event("message_stop", {}),
  ]);
}

/** Routes of the mock's root (the SDK's base URL has no path). */
export function handleAnthropic(call: MockCall): MockReply {
  const route = `${call.method} ${call.path}`;
  if (route === "POST /v1/messages") return messages(call);
  if (route === "GET /v1/models") {
    return json(200, {
      data: [
        { type: "model", id: "claude-mock", display_name: "Claude Mock", created_at: "2025-01-01T00:00:00Z" },
      ],
      has_more: false,
      first_id: "claude-mock",
      last_id: "claude-mock",
    });
  }
  return anthropicError(404, "not_found_error", `Not found: ${call.method} ${call.path}`);
}
