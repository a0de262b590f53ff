/**
 * An HTTP request with a request target sent byte for byte (fetch and URL
 * would normalise `..`, `%2e` and `//` before they reach the server), and any
 * `Host` header.
 */
import { request } from "node:http";

export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * @example const res = await rawRequest(env.egress, "/openai/../x", { authorization: `Bearer ${jwt}` });
 */
export function rawRequest(
  base: string,
  target: string,
  headers: Record<string, string>,
  options: { method?: string; body?: string } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, method: options.method ?? "GET", path: target, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
