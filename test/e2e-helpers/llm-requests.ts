/** LLM request bodies with an explicit output cap, per provider, for token-quota tests. */
import type { MockProvider } from "../mocks/providers.ts";

/**
 * The egress path and body of a chat call capped at `maxTokens` output
 * tokens; the prompt is the 2-character "Hi" (reserved as 1 token).
 * @example const { path, body } = cappedChat("anthropic", true, 300);
 */
export function cappedChat(
  provider: MockProvider,
  stream: boolean,
  maxTokens: number,
  extra: Record<string, unknown> = {},
): { path: string; body: Record<string, unknown> } {
  if (provider === "openai") {
    return {
      path: "/openai/chat/completions",
      body: {
        model: "gpt-mock",
        stream,
        max_completion_tokens: maxTokens,
        messages: [{ role: "user", content: "Hi" }],
        ...extra,
      },
    };
  }
  if (provider === "anthropic") {
    return {
      path: "/anthropic/v1/messages",
      body: {
        model: "claude-mock",
        stream,
        max_tokens: maxTokens,
        messages: [{ role: "user", content: "Hi" }],
        ...extra,
      },
    };
  }
  return {
    path: `/google/v1beta/models/gemini-mock:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
    body: {
      contents: [{ role: "user", parts: [{ text: "Hi" }] }],
      generationConfig: { maxOutputTokens: maxTokens },
      ...extra,
    },
  };
}
