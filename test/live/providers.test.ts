/**
 * Live check (`npm run test:live`): one tiny call per provider through
 * keygate's egress to the real API, with the official SDK and a JWT as API
 * key. A provider's test is skipped when its key variable is unset; the key
 * is never printed (the logs are checked for it).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { anthropicClient, googleClient, openaiClient } from "../e2e-helpers/sdk-clients.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type InProcessKeygate, startKeygate, testMasterKey } from "../helpers/keygate.ts";

const keys = {
  openai: process.env["OPENAI_API_KEY"],
  anthropic: process.env["ANTHROPIC_API_KEY"],
  google: process.env["GOOGLE_API_KEY"],
};
const anyKey = Object.values(keys).some((k) => k !== undefined && k !== "");
const missing = (provider: keyof typeof keys) => keys[provider] === undefined || keys[provider] === "";

// The built-in providers (real base URLs); only the JWT secret is the test's own.
const POLICY = `version: 1
auth: { algorithms: [HS256], secret_env: KEYGATE_JWT_SECRET }
upstreams: { app: "http://127.0.0.1:9" }
limits:
  - { name: live-tokens, scope: llm, per: user, tokens: 20000/1m }
`;

const secret = randomSecret();
let kg: InProcessKeygate | undefined;
let jwt = "";

beforeAll(async () => {
  if (!anyKey) return;
  kg = await startKeygate(POLICY, { KEYGATE_JWT_SECRET: secret, KEYGATE_MASTER_KEYS: testMasterKey() });
  jwt = await mintToken({ sub: "live-check", secret });
  for (const [provider, key] of Object.entries(keys)) {
    if (!key) continue;
    const res = await fetch(`${kg.urls.ingress}/_keygate/keys/${provider}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
      body: JSON.stringify({ api_key: key }),
    });
    if (res.status !== 200) throw new Error(`storing the ${provider} key failed with ${res.status}`);
  }
});
afterAll(async () => {
  if (!kg) return;
  const logs = kg.logText();
  await kg.stop();
  for (const key of Object.values(keys)) if (key) expect(logs.includes(key)).toBe(false);
  expect(logs.includes(jwt)).toBe(false);
});

describe("live providers through keygate", () => {
  test.skipIf(missing("openai"))("openai: a one-word chat completion", async () => {
    const answer = await openaiClient(kg!.urls.egress, jwt).chat.completions.create({
      model: process.env["OPENAI_LIVE_MODEL"] ?? "gpt-4o-mini",
      max_completion_tokens: 5,
      messages: [{ role: "user", content: "Say OK." }],
    });
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(answer.usage?.total_tokens).toBeGreaterThan(0);
  });

  test.skipIf(missing("anthropic"))("anthropic: a one-word message", async () => {
    const message = await anthropicClient(kg!.urls.egress, jwt).messages.create({
      model: process.env["ANTHROPIC_LIVE_MODEL"] ?? "claude-3-5-haiku-latest",
      max_tokens: 5,
      messages: [{ role: "user", content: "Say OK." }],
    });
    expect(message.content.length).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  test.skipIf(missing("google"))("google: a one-word generateContent", async () => {
    const answer = await googleClient(kg!.urls.egress, jwt).models.generateContent({
      model: process.env["GOOGLE_LIVE_MODEL"] ?? "gemini-2.0-flash",
      contents: "Say OK.",
      config: { maxOutputTokens: 5 },
    });
    expect(answer.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
  });
});
