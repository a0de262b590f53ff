/**
 * TLS for the Redis tests: a throwaway CA and server certificate made with
 * openssl at run time, and a 3-master Redis Cluster that speaks only TLS
 * (client and bus), optionally announcing a hostname instead of its IP the
 * way managed services (ElastiCache, MemoryDB) do with in-transit encryption.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../helpers/redis.ts";

const run = promisify(execFile);

export interface Certificates {
  readonly dir: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  remove(): Promise<void>;
}

/** A CA and a server certificate signed by it for `subjectAltName` (e.g. `IP:127.0.0.1`), valid a day. */
export async function makeCertificates(subjectAltName: string): Promise<Certificates> {
  const dir = await mkdtemp(join(tmpdir(), "keygate-tls-"));
  const at = (name: string) => join(dir, name);
  await run("openssl", [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"],
    ...["-keyout", at("ca.key"), "-out", at("ca.crt"), "-subj", "/CN=keygate-test-ca"],
  ]);
  await run("openssl", [
    ...["req", "-newkey", "rsa:2048", "-nodes"],
    ...["-keyout", at("server.key"), "-out", at("server.csr"), "-subj", "/CN=keygate-test-redis"],
  ]);
  await writeFile(at("ext.cnf"), `subjectAltName=${subjectAltName}\n`);
  await run("openssl", [
    ...["x509", "-req", "-days", "1", "-in", at("server.csr"), "-CA", at("ca.crt"), "-CAkey", at("ca.key")],
    ...["-CAcreateserial", "-out", at("server.crt"), "-extfile", at("ext.cnf")],
  ]);
  return {
    dir,
    ca: at("ca.crt"),
    cert: at("server.crt"),
    key: at("server.key"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** `redis-server` arguments serving TLS only on `tlsPort` with `certs` (no client certificates required). */
export function tlsArgs(certs: Certificates, tlsPort: number): string[] {
  return [
    ...["--tls-port", String(tlsPort), "--tls-cert-file", certs.cert, "--tls-key-file", certs.key],
    ...["--tls-ca-cert-file", certs.ca, "--tls-auth-clients", "no"],
  ];
}

export interface TlsCluster {
  readonly ports: readonly number[];
  /** `host:port` seeds for `REDIS_CLUSTER_NODES`. */
  seeds(host: string): string;
  /** redis-cli over TLS against the first node, following redirects. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Three TLS-only masters; `announceHostname` makes CLUSTER SLOTS name nodes by that host instead of an IP. */
export async function startTlsCluster(certs: Certificates, announceHostname?: string): Promise<TlsCluster> {
  const dir = await mkdtemp(join(tmpdir(), "keygate-tls-cluster-"));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const tlsCli = ["--tls", "--cacert", certs.ca];
  const cli = async (port: number, ...args: string[]) =>
    (await run("redis-cli", [...tlsCli, "-h", "127.0.0.1", "-p", String(port), ...args])).stdout.trim();
  for (let i = 0; i < 3; i++) {
    const [port, bus] = [await freePort(), await freePort()];
    ports.push(port);
    await mkdir(join(dir, `n${i}`));
    const hostname = announceHostname
      ? ["--cluster-announce-hostname", announceHostname, "--cluster-preferred-endpoint-type", "hostname"]
      : [];
    children.push(
      spawn(
        "redis-server",
        [
          ...["--port", "0", ...tlsArgs(certs, port), "--tls-cluster", "yes"],
          ...[
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            String(bus),
            "--cluster-config-file",
            "nodes.conf",
          ],
          ...["--cluster-node-timeout", "1000", "--cluster-require-full-coverage", "no", ...hostname],
          ...["--dir", join(dir, `n${i}`), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        ],
        { stdio: "ignore" },
      ),
    );
  }
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            c.once("exit", () => resolve());
            c.kill("SIGKILL");
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await until(async () => (await Promise.all(ports.map((p) => cli(p, "ping")))).every((s) => s === "PONG"));
    const addresses = ports.map((p) => `127.0.0.1:${p}`);
    await run("redis-cli", [
      ...tlsCli,
      "--cluster",
      "create",
      ...addresses,
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    await until(async () =>
      (await Promise.all(ports.map((p) => cli(p, "cluster", "info")))).every((s) =>
        s.includes("cluster_state:ok"),
      ),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    ports,
    seeds: (host) => ports.map((p) => `${host}:${p}`).join(","),
    cli: (...args) => cli(ports[0]!, "-c", ...args),
    stop,
  };
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error("TLS redis cluster did not come up");
    await new Promise((r) => setTimeout(r, 50));
  }
}
