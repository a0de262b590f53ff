/** Mock Gemini API (generativelanguage v1 and v1beta): generateContent, streamGenerateContent, models, errors. */
import { json, type MockCall, type MockReply, sse, textPieces, usageOf } from "./types.ts";

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

export function googleError(status: number, message: string, details: unknown[] = []): MockReply {
  return json(status, {
    error: { code: status, message, status: STATUS_NAMES[status] ?? "UNKNOWN", details },
  });
}

/** Real Google says "API key not valid. Please pass a valid API key."; the mock appends the key to exercise scrubbing. */
export function googleBadKey(status: number, key: string): MockReply {
  return googleError(status, `API key not valid. Please pass a valid API key. (${key})`, [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "API_KEY_INVALID",
      domain: "googleapis.com",
    },
  ]);
}

export function googleMissingKey(): MockReply {
  return googleError(401, "Method doesn't allow unregistered callers. Please use an API key.");
}

export function googleFailure(status: number): MockReply {
  return googleError(status, `Mock failure ${status}.`);
}

function candidate(text: string, last: boolean) {
  return {
    content: { parts: [{ text }], role: "model" },
    index: 0,
    ...(last ? { finishReason: "STOP" } : {}),
  };
}

function usageMetadata(call: MockCall, output: number) {
  const u = usageOf(call);
  return {
    promptTokenCount: u.input,
    candidatesTokenCount: output,
    totalTokenCount: u.input + output,
    ...(u.cached > 0 ? { cachedContentTokenCount: u.cached } : {}),
  };
}

/** Like the real API, every stream chunk carries usageMetadata; only the last one has the final output count. */
function streamChunks(call: MockCall, model: string): string[] {
  const pieces = textPieces(call);
  const total = usageOf(call).output;
  return pieces.map((text, i) => {
    const last = i === pieces.length - 1;
    const output = last ? total : Math.floor((total * i) / pieces.length);
    const body = {
      candidates: [candidate(text, last)],
      usageMetadata: usageMetadata(call, output),
      modelVersion: model,
    };
    return `data: ${JSON.stringify(body)}\r\n\r\n`;
  });
}

// @google/genai 3.x defaults to apiVersion v1; older SDKs and the REST docs use v1beta. Both are served.
const GENERATE = /^\/v1(?:beta)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const MODELS = /^\/v1(?:beta)?\/models$/;

/** Routes of the mock's root (the SDK appends `/v1/…` or `/v1beta/…`). */
export function handleGoogle(call: MockCall): MockReply {
  const m = call.method === "POST" ? GENERATE.exec(call.path) : null;
  if (m) {
    const model = decodeURIComponent(m[1] ?? "gemini-mock");
    if (m[2] === "generateContent") {
      const text = textPieces(call).join("");
      return json(200, {
        candidates: [candidate(text, true)],
        usageMetadata: usageMetadata(call, usageOf(call).output),
        modelVersion: model,
      });
    }
    if (call.query.get("alt") !== "sse") return googleError(400, "The mock only streams with alt=sse.");
    return sse(streamChunks(call, model));
  }
  if (call.method === "GET" && MODELS.test(call.path)) {
    return json(200, {
      models: [
        {
          name: "models/gemini-mock",
          displayName: "Gemini Mock",
          supportedGenerationMethods: ["generateContent"],
        },
      ],
    });
  }
  return googleError(404, `Not found: ${call.method} ${call.path}`);
}
