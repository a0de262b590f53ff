import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VaultError } from "../../gateway/vault/errors.ts";
import { generateMasterKey, parseMasterKeys } from "../../gateway/vault/keyring.ts";
import { resolveKeyring } from "../../gateway/vault/resolve-keyring.ts";
import { fakeMasterKey } from "./fake-keys.ts";

function parseError(text: string): VaultError {
  try {
    parseMasterKeys(text);
  } catch (error) {
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).code).toBe("invalid-master-keys");
    return error as VaultError;
  }
  throw new Error("expected parseMasterKeys to throw");
}

describe("parseMasterKeys", () => {
  it("makes the first key active and keeps every key for decryption", () => {
    const a = fakeMasterKey("new");
    const b = fakeMasterKey("old-1");
    const ring = parseMasterKeys(` ${a} , ${b}`);
    expect(ring.active.id).toBe("new");
    expect(ring.ids).toEqual(["new", "old-1"]);
    expect(Buffer.from(ring.get("old-1")!)).toEqual(Buffer.from(b.split(":")[1]!, "base64"));
    expect(ring.get("missing")).toBeUndefined();
  });

  it("accepts unpadded base64url as well as standard base64", () => {
    const bytes = randomBytes(32);
    expect(Buffer.from(parseMasterKeys(`k:${bytes.toString("base64url")}`).active.key)).toEqual(bytes);
  });

  it.each([
    ["", "KEYGATE_MASTER_KEYS is empty; expected ID:BASE64[,ID:BASE64…]"],
    ["nocolon", "KEYGATE_MASTER_KEYS entry #1: expected ID:BASE64"],
    [
      `${fakeMasterKey("ok")},UPPER:${randomBytes(32).toString("base64")}`,
      "KEYGATE_MASTER_KEYS entry #2: id must match [a-z0-9-]{1,32}",
    ],
    [
      `${"a".repeat(33)}:${randomBytes(32).toString("base64")}`,
      "KEYGATE_MASTER_KEYS entry #1: id must match [a-z0-9-]{1,32}",
    ],
    [
      `k1:${randomBytes(16).toString("base64")}`,
      'master key "k1": must decode to 32 bytes (use `keygate keygen`)',
    ],
    [`k1:${randomBytes(32).toString("base64")}!`, 'master key "k1": not valid base64'],
    [`${fakeMasterKey("k1")},${fakeMasterKey("k1")}`, 'master key "k1": id given twice'],
    [`${fakeMasterKey("k1")},`, "KEYGATE_MASTER_KEYS entry #2: expected ID:BASE64"],
  ])("refuses %j with a message naming the id or position", (text, message) => {
    const error = parseError(text);
    expect(error.message).toBe(message);
    for (const entry of text.split(",")) {
      const material = entry.split(":")[1];
      if (material) expect(error.message).not.toContain(material);
    }
  });
});

describe("generateMasterKey", () => {
  it("prints ID:BASE64 of 32 random bytes, with a dated default id", () => {
    const text = generateMasterKey(undefined, new Date("2026-11-25T10:00:00Z"));
    expect(text).toMatch(/^k20261125-[0-9a-f]{4}:[A-Za-z0-9+/]{43}=$/);
    expect(parseMasterKeys(text).active.key.byteLength).toBe(32);
    expect(generateMasterKey("prod-2")).toMatch(/^prod-2:/);
    expect(generateMasterKey("a")).not.toBe(generateMasterKey("a"));
    expect(() => generateMasterKey("Bad Id")).toThrow("key id must match [a-z0-9-]{1,32}");
  });
});

describe("resolveKeyring", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "keygate-keyring-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("uses KEYGATE_MASTER_KEYS when set, with no warning and no file", async () => {
    const resolved = await resolveKeyring(
      { KEYGATE_MASTER_KEYS: fakeMasterKey("prod"), NODE_ENV: "production" },
      dir,
    );
    expect(resolved.keyring.active.id).toBe("prod");
    expect(resolved.warning).toBeUndefined();
    await expect(stat(join(dir, "master.key"))).rejects.toThrow(/ENOENT/);
  });

  it("generates a dev key with mode 0600 once, then reuses it", async () => {
    const dataDir = join(dir, "data");
    const first = await resolveKeyring({}, dataDir);
    expect(first.warning).toBe(
      `KEYGATE_MASTER_KEYS is not set: generated the dev master key in ${join(dataDir, "master.key")}. ` +
        "Fine for development; in production set KEYGATE_MASTER_KEYS (see `keygate keygen`).",
    );
    const file = join(dataDir, "master.key");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const material = (await readFile(file, "utf8")).trim().split(":")[1]!;
    expect(first.warning).not.toContain(material);
    const second = await resolveKeyring({}, dataDir);
    expect(second.warning).toContain("using the dev master key");
    expect(Buffer.from(second.keyring.active.key)).toEqual(Buffer.from(first.keyring.active.key));
  });

  it("agrees on one dev key when several processes start at once", async () => {
    const rings = await Promise.all([1, 2, 3, 4].map(() => resolveKeyring({}, dir)));
    const keys = new Set(rings.map((r) => Buffer.from(r.keyring.active.key).toString("hex")));
    expect(keys.size).toBe(1);
  });

  it.each([
    [{ REDIS_URL: "redis://127.0.0.1:6379" }, "Redis is configured"],
    [{ REDIS_CLUSTER_NODES: "127.0.0.1:7000" }, "Redis is configured"],
    [{ NODE_ENV: "production" }, "NODE_ENV=production"],
  ])("refuses to start without master keys when %j", async (env, reason) => {
    await expect(resolveKeyring(env, dir)).rejects.toThrow(
      `KEYGATE_MASTER_KEYS is not set (required because ${reason}): ` +
        "set it to the output of `keygate keygen` (ID:BASE64), the same value on every instance",
    );
    await expect(stat(join(dir, "master.key"))).rejects.toThrow(/ENOENT/);
  });

  it("names the file, not its content, when the dev key is damaged", async () => {
    await writeFile(join(dir, "master.key"), "dev:c2hvcnQ=\n", { mode: 0o600 });
    await expect(resolveKeyring({}, dir)).rejects.toThrow(
      `dev master key ${join(dir, "master.key")} is unusable (master key "dev": must decode to 32 bytes (use \`keygate keygen\`)); delete it only if the vault is empty`,
    );
  });
});
