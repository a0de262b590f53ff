/** Mock OpenAI API: chat completions (plain and SSE), models, embeddings, errors. */
import { json, type MockCall, type MockReply, sse, textPieces, usageOf } from "./types.ts";

export function openaiError(status: number, message: string, type: string, code: string | null): MockReply {
  return json(status, { error: { message, type, param: null, code } });
}

/** The auth error OpenAI sends for a wrong key; like the real one, it quotes the key. */
export function openaiBadKey(status: number, key: string): MockReply {
  return openaiError(
    status,
    `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    "invalid_request_error",
    "invalid_api_key",
  );
}

export function openaiMissingKey(): MockReply {
  return openaiError(401, "You didn't provide an API key.", "invalid_request_error", null);
}

export function openaiFailure(status: number): MockReply {
  if (status === 429)
    return openaiError(429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded");
  if (status >= 500)
    return openaiError(status, "The server had an error processing your request.", "server_error", null);
  return openaiError(status, `Mock failure ${status}.`, "invalid_request_error", null);
}

function usageBlock(call: MockCall) {
  const u = usageOf(call);
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached },
  };
}

function chatCompletion(call: MockCall): MockReply {
  const model = String(call.json?.["model"] ?? "gpt-mock");
  const created = Math.floor(Date.now() / 1000);
  const pieces = textPieces(call);
  if (call.json?.["stream"] !== true) {
    return json(200, {
      id: "chatcmpl-mock",
      object: "chat.completion",
      created,
      model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: pieces.join("") },
          finish_reason: "stop",
          logprobs: null,
        },
      ],
      usage: usageBlock(call),
    });
  }
  const options = call.json["stream_options"] as { include_usage?: unknown } | undefined;
  const includeUsage = options?.include_usage === true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id: "chatcmpl-mock", object: "chat.completion.chunk", created, model, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`;
  const delta = (d: Record<string, unknown>, finish: string | null = null) => ({
    index: 0,
    delta: d,
    finish_reason: finish,
    logprobs: null,
  });
  const chunks = [
    chunk([delta({ role: "assistant", content: "" })]),
    ...pieces.map((p) => chunk([delta({ content: p })])),
    chunk([delta({}, "stop")]),
  ];
  if (includeUsage) chunks.push(chunk([], { usage: usageBlock(call) }));
  chunks.push("data: [DONE]\n\n");
  return sse(chunks);
}

function embeddings(call: MockCall): MockReply {
  const inputs = call.json?.["input"];
  const count = Array.isArray(inputs) ? inputs.length : 1;
  const base64 = call.json?.["encoding_format"] === "base64";
  const vector = Float32Array.from([0.25, -0.5, 0.125, 1]);
  const data = Array.from({ length: count }, (_, index) => ({
    object: "embedding",
    index,
    embedding: base64 ? Buffer.from(vector.buffer).toString("base64") : Array.from(vector),
  }));
  const u = usageOf(call);
  return json(200, {
    object: "list",
    data,
    model: String(call.json?.["model"] ?? "text-embedding-mock"),
    usage: { prompt_tokens: u.input, total_tokens: u.input },
  });
}

/** Routes below the mock's `/v1` root. */
export function handleOpenAI(call: MockCall): MockReply {
  const route = `${call.method} ${call.path}`;
  if (route === "POST /v1/chat/completions") return chatCompletion(call);
  if (route === "POST /v1/embeddings") return embeddings(call);
  if (route === "GET /v1/models") {
    return json(200, {
      object: "list",
      data: [{ id: "gpt-mock", object: "model", created: 1_700_000_000, owned_by: "mock" }],
    });
  }
  return openaiError(
    404,
    `Unknown request URL: ${call.method} ${call.path}.`,
    "invalid_request_error",
    "unknown_url",
  );
}
