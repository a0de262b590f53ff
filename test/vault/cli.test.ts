import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keygen, keysList, keysPut, keysRm, vaultRotate } from "../../gateway/cli/vault-commands.ts";
import { createFileStore } from "../../gateway/vault/file-store.ts";
import { parseMasterKeys } from "../../gateway/vault/keyring.ts";
import { createVault } from "../../gateway/vault/vault.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { fakeApiKey, fakeMasterKey } from "./fake-keys.ts";

type Command = (args: string[], io: Parameters<typeof keygen>[1]) => Promise<number>;

/** Every byte any command printed in this file, checked for plaintext keys at the end. */
const printed: string[] = [];
const secrets: string[] = [];

function secretKey(prefix?: string): string {
  const key = fakeApiKey(prefix);
  secrets.push(key);
  return key;
}

async function cli(command: Command, args: string[], env: NodeJS.ProcessEnv, stdin = "") {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (c: Buffer) => (stdout += c.toString()));
  err.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await command(args, { stdin: Readable.from([stdin]), stdout: out, stderr: err, env });
  printed.push(stdout, stderr);
  return { code, stdout, stderr };
}

const POLICY = `version: 1
auth:
  algorithms: [HS256]
  secret_env: KEYGATE_JWT_SECRET
upstreams:
  app: http://127.0.0.1:8000
limits: []
`;

let dir: string;
let env: NodeJS.ProcessEnv;
const master = fakeMasterKey("k1");
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "keygate-cli-"));
  await writeFile(join(dir, "policies.yaml"), POLICY);
  env = {
    KEYGATE_POLICIES: join(dir, "policies.yaml"),
    KEYGATE_DATA_DIR: join(dir, "data"),
    KEYGATE_MASTER_KEYS: master,
  };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterAll(() => {
  expect(secrets.length).toBeGreaterThan(5);
  for (const secret of secrets) for (const text of printed) expect(text).not.toContain(secret);
});

describe("keygate keygen", () => {
  it("prints ID:BASE64 of 32 bytes on stdout, the next steps on stderr", async () => {
    const { code, stdout, stderr } = await cli(keygen, [], {});
    expect(code).toBe(0);
    expect(stdout).toMatch(/^k\d{8}-[0-9a-f]{4}:[A-Za-z0-9+/]{43}=\n$/);
    expect(parseMasterKeys(stdout.trim()).active.key.byteLength).toBe(32);
    expect(stderr).toBe(
      "Put it first in KEYGATE_MASTER_KEYS (keep the old keys after it), restart, then run `keygate vault rotate`.\n",
    );
    expect((await cli(keygen, ["--id", "prod-2"], {})).stdout).toMatch(/^prod-2:/);
    expect(await cli(keygen, ["--id", "No Good"], {})).toEqual({
      code: 1,
      stdout: "",
      stderr: "keygate keygen: key id must match [a-z0-9-]{1,32} (invalid-master-keys)\n",
    });
  });
});

describe("keygate keys put | list | rm (embedded file store)", () => {
  it("stores a key read from stdin, lists hints only, removes it", async () => {
    const apiKey = secretKey("sk-proj-");
    const put = await cli(keysPut, ["--user", "alice", "--provider", "openai"], env, `  ${apiKey}\n`);
    expect(put).toEqual({
      code: 0,
      stdout: `stored openai key sk-…${apiKey.slice(-4)} for user "alice"\n`,
      stderr: "",
    });

    const vault = createVault({
      store: createFileStore(join(dir, "data")),
      keyring: parseMasterKeys(master),
    });
    expect(await vault.reveal("alice", "openai")).toBe(apiKey);
    expect(await readFile(join(dir, "data", "vault.json"), "utf8")).not.toContain(apiKey);

    const list = await cli(keysList, ["--user", "alice"], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(
        `^PROVIDER  HINT      CREATED_AT {12}UPDATED_AT\\nopenai    sk-…${apiKey.slice(-4)}  \\S+Z  \\S+Z\\n$`,
      ),
    );
    const json = JSON.parse((await cli(keysList, ["--user", "alice", "--json"], env)).stdout);
    expect(json.keys).toEqual([
      {
        provider: "openai",
        hint: `sk-…${apiKey.slice(-4)}`,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    ]);

    expect(await cli(keysRm, ["--user", "alice", "--provider", "openai"], env)).toEqual({
      code: 0,
      stdout: 'removed the openai key of user "alice"\n',
      stderr: "",
    });
    expect(await cli(keysRm, ["--user", "alice", "--provider", "openai"], env)).toEqual({
      code: 1,
      stdout: "",
      stderr: 'keygate keys rm: user "alice" has no openai key\n',
    });
    expect((await cli(keysList, ["--user", "alice"], env)).stdout).toBe("no keys stored\n");
  });

  it.each([
    ["as a positional argument", (k: string) => ["--user", "alice", "--provider", "openai", k]],
    ["as --key=…", (k: string) => ["--user", "alice", "--provider", "openai", `--key=${k}`]],
    ["as --api-key …", (k: string) => ["--user", "alice", "--provider", "openai", "--api-key", k]],
    ["in place of the provider", (k: string) => ["--user", "alice", "--provider", k]],
  ])("refuses a key given on the command line (%s), without echoing it", async (_label, argv) => {
    const apiKey = secretKey();
    const result = await cli(keysPut, argv(apiKey), env, `${secretKey()}\n`);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "keygate keys put: an API key was given on the command line; pass it on stdin instead (command lines end up in shell history and ps)\n" +
        "usage: keygate keys put --user U --provider P [--policies FILE] < key.txt\n",
    );
    expect((await cli(keysList, ["--user", "alice"], env)).stdout).toBe("no keys stored\n");
  });

  it("refuses a key of the wrong shape for the provider, naming the pattern, storing nothing", async () => {
    const apiKey = secretKey("not-a-google-key-");
    const result = await cli(keysPut, ["--user", "alice", "--provider", "google"], env, apiKey);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    // The pattern is the policy's (its exact spelling belongs to the policy compiler).
    expect(result.stderr).toMatch(
      /^keygate keys put: this does not look like a google API key \(expected pattern \S*AIza\S*, at most 256 characters\); nothing stored\n$/,
    );
    expect((await cli(keysList, ["--user", "alice"], env)).stdout).toBe("no keys stored\n");
  });

  it("refuses an unknown provider, an empty stdin and missing flags", async () => {
    expect((await cli(keysPut, ["--user", "alice", "--provider", "nope"], env, secretKey())).stderr).toBe(
      `keygate keys put: unknown provider "nope" (${join(dir, "policies.yaml")} defines: openai, anthropic, google)\n` +
        "usage: keygate keys put --user U --provider P [--policies FILE] < key.txt\n",
    );
    const empty = await cli(keysPut, ["--user", "alice", "--provider", "openai"], env, " \n");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("keygate keys put: no key on stdin");
    const missing = await cli(keysList, [], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      "keygate keys list: --user is required\nusage: keygate keys list --user U [--json]\n",
    );
    const extra = await cli(keysRm, ["--user", "a", "--provider", "openai", "--force"], env);
    expect(extra.stderr).toBe(
      "keygate keys rm: unexpected argument or option (allowed: --user, --provider)\nusage: keygate keys rm --user U --provider P\n",
    );
  });

  it("in embedded mode without master keys, generates the dev key with a warning", async () => {
    const { KEYGATE_MASTER_KEYS: _, ...devEnv } = env;
    const result = await cli(keysPut, ["--user", "bob", "--provider", "openai"], devEnv, secretKey());
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      `warning: KEYGATE_MASTER_KEYS is not set: generated the dev master key in ${join(dir, "data", "master.key")}. ` +
        "Fine for development; in production set KEYGATE_MASTER_KEYS (see `keygate keygen`).\n",
    );
  });
});

describe("keygate vault rotate and keys with Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("refuses to run without master keys when Redis is configured", async () => {
    const result = await cli(
      keysPut,
      ["--user", "a", "--provider", "openai"],
      { ...env, KEYGATE_MASTER_KEYS: "", REDIS_URL: redis.url },
      secretKey(),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "keygate keys put: KEYGATE_MASTER_KEYS is not set (required because Redis is configured): " +
        "set it to the output of `keygate keygen` (ID:BASE64), the same value on every instance\n",
    );
  });

  it("rewraps every key under the new master key, is safe to re-run, and the old key can go", async () => {
    const oldKey = fakeMasterKey("old");
    const newKey = fakeMasterKey("new");
    const base = { ...env, REDIS_URL: redis.url };
    const keys = new Map<string, string>();
    for (const [user, provider] of [
      ["alice", "openai"],
      ["alice", "anthropic"],
      ["bob", "openai"],
    ] as const) {
      const apiKey = secretKey(provider === "anthropic" ? "sk-ant-" : "sk-");
      keys.set(`${user}|${provider}`, apiKey);
      const put = await cli(
        keysPut,
        ["--user", user, "--provider", provider],
        { ...base, KEYGATE_MASTER_KEYS: oldKey },
        apiKey,
      );
      expect(put.code).toBe(0);
    }
    const rotating = { ...base, KEYGATE_MASTER_KEYS: `${newKey},${oldKey}` };
    expect(await cli(vaultRotate, [], rotating)).toEqual({
      code: 0,
      stdout: "rewrapped 3 of 3\n",
      stderr: "",
    });
    expect(await cli(vaultRotate, [], rotating)).toEqual({
      code: 0,
      stdout: "rewrapped 0 of 3\n",
      stderr: "",
    });

    const { Redis } = await import("ioredis");
    const connection = new Redis(redis.url);
    try {
      const { createRedisStore } = await import("../../gateway/vault/redis-store.ts");
      const vault = createVault({ store: createRedisStore(connection), keyring: parseMasterKeys(newKey) });
      for (const [id, apiKey] of keys) {
        const [user, provider] = id.split("|") as [string, string];
        expect(await vault.reveal(user, provider)).toBe(apiKey);
      }
    } finally {
      connection.disconnect();
    }
    const onlyOld = await cli(vaultRotate, [], { ...base, KEYGATE_MASTER_KEYS: fakeMasterKey("other") });
    expect(onlyOld.stdout).toBe("rewrapped 0 of 3\n");
    expect(onlyOld.code).toBe(1);
    expect(onlyOld.stderr.split("\n").filter(Boolean).sort()).toEqual([
      'could not rewrap the anthropic key of user "alice": unknown-key',
      'could not rewrap the openai key of user "alice": unknown-key',
      'could not rewrap the openai key of user "bob": unknown-key',
    ]);
  });
});
