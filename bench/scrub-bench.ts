/**
 * Micro-benchmark of the exact-key stream scrubber on a 64 KiB SSE-like body,
 * fed in transport-sized chunks, without and with the key in it. Bounded: a
 * fixed number of passes per case. Run: `node bench/scrub-bench.ts`.
 */
import { randomBytes } from "node:crypto";
import { createKeyScrubber } from "../gateway/scrub/stream.ts";

const BODY_BYTES = 64 * 1024;
const PASSES = 2_000; // 128 MiB per case
const CHUNK_SIZES = [16 * 1024, 1024, 128];

function sseBody(keyEvery: number, key: string): Buffer {
  const events: string[] = [];
  let size = 0;
  for (let i = 0; size < BODY_BYTES; i++) {
    const content = keyEvery > 0 && i % keyEvery === 0 ? `echo ${key}` : `token ${i} lorem ipsum`;
    const e = `data: {"id":"chatcmpl-x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${content}"}}]}\n\n`;
    events.push(e);
    size += e.length;
  }
  return Buffer.from(events.join("")).subarray(0, BODY_BYTES);
}

function chunks(body: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

function run(label: string, parts: readonly Buffer[], key: string): void {
  const scrubber = createKeyScrubber(key);
  let sink = 0;
  for (let i = 0; i < 50; i++) for (const p of parts) sink += scrubber.push(p).length; // warm-up
  const start = process.hrtime.bigint();
  for (let pass = 0; pass < PASSES; pass++) {
    for (const p of parts) sink += scrubber.push(p).length;
    sink += scrubber.flush().length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const mb = (BODY_BYTES * PASSES) / (1024 * 1024);
  console.log(
    `${label.padEnd(44)} ${(mb / seconds).toFixed(0).padStart(7)} MB/s  (${sink > 0 ? "ok" : "?"})`,
  );
}

const key = `sk-test-${randomBytes(24).toString("hex")}`;
console.log(
  `node ${process.version}, body ${BODY_BYTES} B, ${PASSES} passes per case, key ${key.length} chars`,
);
for (const size of CHUNK_SIZES) {
  run(`no key,       ${size} B chunks`, chunks(sseBody(0, key), size), key);
  run(`key every 50 events, ${size} B chunks`, chunks(sseBody(50, key), size), key);
}
// The worst case for the tail check: every chunk ends in a prefix of the key.
const prefixHeavy = chunks(Buffer.from(`${"x".repeat(1000)}${key.slice(0, 40)}`.repeat(64)), 1040);
run("chunk ends in a 40-byte key prefix, 1040 B", prefixHeavy, key);
