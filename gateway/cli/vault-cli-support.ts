import { parseArgs } from "node:util";
import { PROVIDER_KEY_SOURCE } from "../secrets/patterns.ts";

/** What every vault command gets from the dispatcher. */
export interface VaultCommandIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

/** A bad command line: the command prints the message and its usage, exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

const KEY_FLAG = /^--?(key|api-key|api_key|apikey|secret|value)(=|$)/i;

/**
 * Parses `--name value` flags. Arguments are never echoed back in errors: a
 * key pasted onto the command line must not end up in a terminal log too.
 */
export function parseFlags<const N extends string>(
  args: readonly string[],
  names: readonly N[],
  booleans: readonly string[] = [],
): Partial<Record<N, string>> & Record<string, string | boolean | undefined> {
  const keyShape = new RegExp(PROVIDER_KEY_SOURCE);
  if (args.some((arg) => KEY_FLAG.test(arg) || keyShape.test(arg))) {
    throw new UsageError(
      "an API key was given on the command line; pass it on stdin instead (command lines end up in shell history and ps)",
    );
  }
  const options = Object.fromEntries([
    ...names.map((n) => [n, { type: "string" as const }]),
    ...booleans.map((n) => [n, { type: "boolean" as const }]),
  ]);
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values as Partial<
      Record<N, string>
    >;
  } catch {
    const allowed = [...names, ...booleans].map((n) => `--${n}`).join(", ") || "none";
    throw new UsageError(`unexpected argument or option (allowed: ${allowed})`);
  }
}

/** A required flag's value; a UsageError naming the flag when it is missing or empty. */
export function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

/**
 * All of stdin as text, trimmed. Bounded (a key is at most 256 characters), and
 * the raw bytes are zeroed once decoded.
 */
export async function readSecretFromStdin(
  stdin: NodeJS.ReadableStream,
  maxBytes = 8 * 1024,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stdin) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk);
      chunks.push(bytes);
      size += bytes.byteLength;
      if (size > maxBytes)
        throw new UsageError(`stdin holds more than ${maxBytes} bytes; expected one API key`);
    }
    const all = Buffer.concat(chunks);
    const text = all.toString("utf8").trim();
    all.fill(0);
    return text;
  } finally {
    for (const chunk of chunks) chunk.fill(0);
  }
}
