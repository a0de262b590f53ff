/**
 * Graceful drain on the egress listener: an LLM answer streaming (SSE) when
 * SIGTERM arrives is delivered whole, and the process then exits 0.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { egressPolicy } from "../e2e-helpers/egress-env.ts";
import { fakeProviderKey } from "../e2e-helpers/fake-keys.ts";
import { chatRequest, postJson } from "../e2e-helpers/http.ts";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { spawnKeygate, testMasterKey } from "../helpers/keygate.ts";
import { type MockProviders, startMockProviders } from "../mocks/providers.ts";
import { waitFor, within } from "./support.ts";

const secret = randomSecret();
let mocks: MockProviders;

beforeAll(async () => {
  mocks = await startMockProviders();
});
afterAll(async () => {
  await mocks.close();
});

test("an SSE answer in flight when SIGTERM arrives reaches the client whole; exit code 0", async () => {
  const kg = await spawnKeygate(egressPolicy(mocks), {
    KEYGATE_JWT_SECRET: secret,
    KEYGATE_MASTER_KEYS: testMasterKey(),
    KEYGATE_DRAIN_TIMEOUT: "10",
  });
  try {
    const jwt = await mintToken({ sub: "egress-drainer", secret });
    const put = await fetch(`${kg.urls.ingress}/_keygate/keys/openai`, {
      method: "PUT",
      headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
      body: JSON.stringify({ api_key: fakeProviderKey("openai") }),
    });
    expect(put.status).toBe(200);
    await put.arrayBuffer();

    const pieces = Array.from({ length: 30 }, (_, i) => `p${i} `);
    mocks.setBehaviour({ text: pieces, chunkDelayMs: 40 }, "openai");
    const { path, body } = chatRequest("openai", true);
    const res = await postJson(`${kg.urls.egress}${path}`, body, { authorization: `Bearer ${jwt}` });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true });

    kg.child.kill("SIGTERM");
    await waitFor(
      async () => (await fetch(`${kg.urls.admin}/readyz`)).status === 503,
      "/readyz to answer 503",
    );
    const rest = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    })();
    const all = await within(rest, 8_000, "the SSE answer");

    const content = [...all.matchAll(/^data: (\{.*\})$/gm)]
      .map((m) => JSON.parse(m[1]!) as { choices: { delta?: { content?: string } }[] })
      .map((chunk) => chunk.choices[0]?.delta?.content ?? "")
      .join("");
    expect(content).toBe(pieces.join(""));
    expect(all.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(await within(kg.exited, 8_000, "exit after drain")).toBe(0);
  } finally {
    if (kg.child.exitCode === null) kg.child.kill("SIGKILL");
  }
});
