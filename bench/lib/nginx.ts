/**
 * nginx `proxy_pass` as the industry reference: one worker, upstream
 * keep-alive, no access log. Only used when `nginx` is on PATH; the bench
 * never installs it.
 */
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, spawnPinned } from "./procs.ts";

/** The nginx binary's path, or null when nginx is not installed. */
export function findNginx(): string | null {
  for (const path of ["nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx"]) {
    try {
      execFileSync(path, ["-v"], { stdio: "ignore" });
      return path;
    } catch {
      // try the next
    }
  }
  return null;
}

function config(dir: string, port: number, upstream: URL): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  upstream app { server ${upstream.host}; keepalive 128; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

export interface NginxProxy {
  readonly url: string;
  readonly child: ChildProcess;
  /** Config, pid and temp files; remove after stopping. */
  readonly dir: string;
}

/** Starts nginx proxying to `upstream` and waits until it accepts connections. */
export async function startNginx(
  binary: string,
  upstream: string,
  cores: string | undefined,
): Promise<NginxProxy> {
  const dir = mkdtempSync(join(tmpdir(), "keygate-bench-nginx-"));
  const port = await freePort();
  writeFileSync(join(dir, "nginx.conf"), config(dir, port, new URL(upstream)));
  const child = spawnPinned(
    cores,
    binary,
    ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")],
    {
      stdio: "ignore",
    },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`nginx exited with code ${child.exitCode}; see ${dir}/error.log`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1", () => resolve(!!s.end()));
      s.once("error", () => resolve(false));
    });
    if (up) return { url: `http://127.0.0.1:${port}`, child, dir };
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
