/**
 * Mock OpenAI, Anthropic and Google servers for egress tests: three node:http
 * servers on 127.0.0.1 port 0, close enough to the real APIs that the official
 * SDKs work against them (plain and streaming answers, usage, error shapes).
 *
 * Each mock checks its own auth slot (`authorization: Bearer`, `x-api-key`,
 * `x-goog-api-key`) and records every request. Behaviours (pacing, key echoes,
 * split keys, failures, hangs, usage numbers) are set per test.
 *
 * @example
 *   const mocks = await startMockProviders();
 *   const openai = new OpenAI({ apiKey: "sk-test-…", baseURL: mocks.openaiUrl, maxRetries: 0 });
 *   mocks.setBehaviour({ chunkDelayMs: 50 }, "openai");
 *   await mocks.close();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { anthropicBadKey, anthropicFailure, anthropicMissingKey, handleAnthropic } from "./anthropic.ts";
import { googleBadKey, googleFailure, googleMissingKey, handleGoogle } from "./google.ts";
import { handleOpenAI, openaiBadKey, openaiFailure, openaiMissingKey } from "./openai.ts";
import type { MockBehaviour, MockCall, MockProvider, MockReply, RecordedRequest } from "./types.ts";
import { writeReply } from "./write.ts";

export type { MockBehaviour, MockProvider, MockUsage, RecordedRequest } from "./types.ts";

export interface MockProviders {
  /** OpenAI base URL, with its `/v1` prefix (as `providers.openai.base_url`). */
  readonly openaiUrl: string;
  readonly anthropicUrl: string;
  readonly googleUrl: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Replaces the behaviour of one provider, or of all three when `provider` is omitted. */
  setBehaviour(behaviour: MockBehaviour, provider?: MockProvider): void;
  /** Resolves with the next request to arrive (register before sending it). */
  nextRequest(): Promise<RecordedRequest>;
  /** Ends hung answers, closes every connection and the servers. */
  close(): Promise<void>;
}

interface Dialect {
  readonly keyOf: (req: IncomingMessage) => string | undefined;
  readonly handle: (call: MockCall) => MockReply;
  readonly badKey: (status: number, key: string) => MockReply;
  readonly missingKey: () => MockReply;
  readonly failure: (status: number) => MockReply;
}

const DIALECTS: Readonly<Record<MockProvider, Dialect>> = {
  openai: {
    keyOf: (req) => /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1],
    handle: handleOpenAI,
    badKey: openaiBadKey,
    missingKey: openaiMissingKey,
    failure: openaiFailure,
  },
  anthropic: {
    keyOf: (req) => headerValue(req.headers["x-api-key"]),
    handle: handleAnthropic,
    badKey: anthropicBadKey,
    missingKey: anthropicMissingKey,
    failure: anthropicFailure,
  },
  google: {
    keyOf: (req) => headerValue(req.headers["x-goog-api-key"]),
    handle: handleGoogle,
    badKey: googleBadKey,
    missingKey: googleMissingKey,
    failure: googleFailure,
  },
};

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function decide(dialect: Dialect, call: Omit<MockCall, "key">, key: string | undefined): MockReply {
  const b = call.behaviour;
  if (key === undefined || key === "") return dialect.missingKey();
  if (b.acceptKeys !== undefined && !b.acceptKeys.includes(key))
    return dialect.badKey(b.authErrorStatus ?? 401, key);
  if (b.fail !== undefined) {
    const reply = dialect.failure(b.fail.status);
    if (b.fail.retryAfterS === undefined) return reply;
    return { ...reply, headers: { ...reply.headers, "retry-after": String(b.fail.retryAfterS) } };
  }
  return dialect.handle({ ...call, key });
}

/** Starts the three mocks on free ports of 127.0.0.1. */
export async function startMockProviders(): Promise<MockProviders> {
  const behaviours: Record<MockProvider, MockBehaviour> = { openai: {}, anthropic: {}, google: {} };
  const requests: RecordedRequest[] = [];
  const waiters: ((r: RecordedRequest) => void)[] = [];
  const closing = new AbortController();

  async function serve(provider: MockProvider, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const dialect = DIALECTS[provider];
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://mock.invalid");
    const key = dialect.keyOf(req);
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const record: RecordedRequest = {
      provider,
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headers,
      body,
      key,
      finished,
    };
    requests.push(record);
    for (const w of waiters.splice(0)) w(record);

    const behaviour = behaviours[provider];
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = body === "" ? undefined : (JSON.parse(body) as Record<string, unknown>);
    } catch {
      await writeReply(res, dialect.failure(400), behaviour, key, closing.signal);
      return finish();
    }
    const call = {
      method: record.method,
      path: url.pathname,
      query: url.searchParams,
      json: parsed,
      behaviour,
    };
    const reply = decide(dialect, call, key);
    const headers =
      behaviour.echoKeyHeader && key ? { ...reply.headers, "x-mock-echo-key": key } : reply.headers;
    await writeReply(res, { ...reply, headers: headers ?? {} }, behaviour, key, closing.signal);
    finish();
  }

  const servers: Server[] = [];
  async function listen(provider: MockProvider): Promise<string> {
    const server = createServer((req, res) => {
      res.on("error", () => {}); // the client may vanish mid-answer; that is a test's business, not a crash
      serve(provider, req, res).catch(() => res.destroy());
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const [openai, anthropic, google] = await Promise.all([
    listen("openai"),
    listen("anthropic"),
    listen("google"),
  ]);
  return {
    openaiUrl: `${openai}/v1`,
    anthropicUrl: anthropic,
    googleUrl: google,
    requests,
    setBehaviour(behaviour, provider) {
      for (const p of provider ? [provider] : (["openai", "anthropic", "google"] as const))
        behaviours[p] = behaviour;
    },
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    async close() {
      closing.abort();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
