/**
 * Field-based redaction paths for pino: credential headers wherever request or
 * response headers are logged, and secret-named keys at the top level and one
 * level down. Built once, when the logger is created.
 */

/**
 * Credential headers in the letter cases clients and libraries actually use.
 * Node lower-cases incoming headers, but outgoing header objects keep the
 * caller's case, and redaction paths match case-sensitively.
 */
export const CREDENTIAL_HEADERS: readonly string[] = [
  "authorization",
  "Authorization",
  "AUTHORIZATION",
  "proxy-authorization",
  "Proxy-Authorization",
  "x-api-key",
  "X-Api-Key",
  "X-API-Key",
  "X-API-KEY",
  "x-goog-api-key",
  "X-Goog-Api-Key",
  "X-Goog-API-Key",
  "cookie",
  "Cookie",
  "set-cookie",
  "Set-Cookie",
];

/** Objects whose `headers` the gateway (or a library's serializer) logs. */
const HEADER_OWNERS: readonly string[] = ["", "req.", "res.", "request.", "response.", "upstream."];

/** Keys whose value is a secret by name alone. */
export const SECRET_KEYS: readonly string[] = [
  "api_key",
  "apiKey",
  "key",
  "token",
  "jwt",
  "secret",
  "password",
];

/** Every redaction path, in pino's path syntax. */
export function redactPaths(): string[] {
  const paths: string[] = [];
  for (const owner of HEADER_OWNERS) {
    for (const header of CREDENTIAL_HEADERS) paths.push(`${owner}headers["${header}"]`);
  }
  for (const key of SECRET_KEYS) paths.push(key, `*.${key}`);
  return paths;
}
