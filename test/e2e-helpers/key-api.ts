/** The key API (SPEC §5) as a tiny client over fetch: every call returns the raw Response. */

export interface KeyApi {
  put(provider: string, body: unknown): Promise<Response>;
  list(): Promise<Response>;
  get(provider: string): Promise<Response>;
  remove(provider: string): Promise<Response>;
  verify(provider: string): Promise<Response>;
}

/**
 * @example const res = await keyApi(env.ingress, user.jwt).put("openai", { api_key: key });
 */
export function keyApi(ingress: string, jwt: string): KeyApi {
  const auth = { authorization: `Bearer ${jwt}` };
  const url = (path: string) => `${ingress}/_keygate/keys${path}`;
  return {
    put: (provider, body) =>
      fetch(url(`/${provider}`), {
        method: "PUT",
        headers: { ...auth, "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    list: () => fetch(url(""), { headers: auth }),
    get: (provider) => fetch(url(`/${provider}`), { headers: auth }),
    remove: (provider) => fetch(url(`/${provider}`), { method: "DELETE", headers: auth }),
    verify: (provider) => fetch(url(`/${provider}/verify`), { method: "POST", headers: auth }),
  };
}

/** RFC 3339 UTC, e.g. `2026-11-25T12:47:53Z` or with fractional seconds. */
export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** SPEC §5 hint: first 3 characters, `…`, last 4. */
export const hintOf = (key: string): string => `${key.slice(0, 3)}…${key.slice(-4)}`;
