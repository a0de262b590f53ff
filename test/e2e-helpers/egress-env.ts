/**
 * One keygate (in-process) in front of the three mock providers, with helpers
 * to make fresh users, store their keys and assert that no secret leaked
 * into the captured logs. Every test file starts its own.
 *
 * @example
 *   const env = await startEgressEnv();
 *   const alice = await env.newUser();
 *   const key = await env.storeKey(alice, "openai");
 *   await env.stop();
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { mintToken, randomSecret } from "../helpers/jwt.ts";
import { type InProcessKeygate, startKeygate, testMasterKey } from "../helpers/keygate.ts";
import { type MockProvider, type MockProviders, startMockProviders } from "../mocks/providers.ts";
import { fakeProviderKey } from "./fake-keys.ts";

export interface TestUser {
  readonly id: string;
  readonly jwt: string;
}

export interface EgressEnvOptions {
  /**
   * Extra policy YAML appended after the three providers: more providers
   * (indented two spaces), then `limits:`, `cors:`…. `${OPENAI_MOCK}`,
   * `${ANTHROPIC_MOCK}` and `${GOOGLE_MOCK}` expand to the mocks' base URLs.
   */
  readonly extra?: string;
  /** Extra YAML inside each provider's mapping, per provider (e.g. `guards: {...}`). */
  readonly providerExtra?: Partial<Record<MockProvider, string>>;
  /** Extra environment (e.g. `REDIS_URL`, `KEYGATE_DATA_DIR`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Reuse mocks (restart tests); otherwise new ones are started and closed by `stop()`. */
  readonly mocks?: MockProviders;
  /** Reuse a JWT secret / master key (restart tests). */
  readonly secret?: string;
  readonly masterKey?: string;
}

export interface EgressEnv {
  readonly kg: InProcessKeygate;
  readonly mocks: MockProviders;
  readonly secret: string;
  readonly masterKey: string;
  readonly egress: string;
  readonly ingress: string;
  /** A user with a unique id and a valid 1-hour JWT. */
  newUser(prefix?: string): Promise<TestUser>;
  /** Stores a fresh fake key (or `key`) for `user` via the key API; returns the key. */
  storeKey(user: TestUser, provider: string, key?: string): Promise<string>;
  /** Every secret seen so far (stored keys, JWTs): `assertLogsClean` greps for each. */
  readonly secrets: string[];
  /** The captured logs hold none of `secrets`. */
  assertLogsClean(): void;
  stop(): Promise<void>;
}

/** The policy text: the three providers pointed at the mocks, plus `extra`. */
export function egressPolicy(
  mocks: MockProviders,
  options: Pick<EgressEnvOptions, "extra" | "providerExtra"> = {},
): string {
  const p = options.providerExtra ?? {};
  const entry = (base: string, extra: string | undefined) =>
    `{ base_url: "${base}"${extra ? `, ${extra}` : ""} }`;
  return `version: 1
auth: { algorithms: [HS256], secret_env: KEYGATE_JWT_SECRET }
upstreams: { app: "http://127.0.0.1:9" }
providers:
  openai: ${entry(mocks.openaiUrl, p.openai)}
  anthropic: ${entry(mocks.anthropicUrl, p.anthropic)}
  google: ${entry(mocks.googleUrl, p.google)}
${options.extra ?? ""}
`;
}

export async function startEgressEnv(options: EgressEnvOptions = {}): Promise<EgressEnv> {
  const mocks = options.mocks ?? (await startMockProviders());
  const secret = options.secret ?? randomSecret();
  const masterKey = options.masterKey ?? testMasterKey();
  const kg = await startKeygate(egressPolicy(mocks, options), {
    KEYGATE_JWT_SECRET: secret,
    KEYGATE_MASTER_KEYS: masterKey,
    OPENAI_MOCK: mocks.openaiUrl,
    ANTHROPIC_MOCK: mocks.anthropicUrl,
    GOOGLE_MOCK: mocks.googleUrl,
    ...options.env,
  });
  const secrets: string[] = [];
  return {
    kg,
    mocks,
    secret,
    masterKey,
    egress: kg.urls.egress,
    ingress: kg.urls.ingress,
    secrets,
    async newUser(prefix = "user") {
      const id = `${prefix}-${randomUUID()}`;
      const jwt = await mintToken({ sub: id, secret });
      secrets.push(jwt);
      return { id, jwt };
    },
    async storeKey(user, provider, key = fakeProviderKey(provider as MockProvider)) {
      secrets.push(key);
      const res = await fetch(`${kg.urls.ingress}/_keygate/keys/${provider}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${user.jwt}`, "content-type": "application/json" },
        body: JSON.stringify({ api_key: key }),
      });
      if (res.status !== 200)
        throw new Error(`storing a ${provider} key failed: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      return key;
    },
    assertLogsClean() {
      const text = kg.logText();
      for (const s of secrets) expect(text.includes(s), "a stored key or JWT reached the logs").toBe(false);
    },
    async stop() {
      await kg.stop();
      if (!options.mocks) await mocks.close();
    },
  };
}
