/**
 * Field validators shared by the policy schema. Each carries its own message
 * in the form "what is wrong, what is expected"; the loader prefixes the
 * file, line, column and field path.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { DURATION_RE, RATE_RE, SIZE_RE } from "./units.ts";

/** A value quoted for an error message; long values are cut so a message stays one readable line. */
export function show(value: unknown): string {
  if (value === null) return "an empty value";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value !== "string") return Array.isArray(value) ? "a list" : "a mapping";
  const text = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return JSON.stringify(text);
}

type Described = { readonly input?: unknown };

/** An error function that leaves a missing value to the loader's generic "is required" message. */
export function present<I extends Described>(describe: (iss: I) => string): (iss: I) => string | undefined {
  return (iss) => (iss.input === undefined ? undefined : describe(iss));
}

export const NAME_RE = /^[a-z0-9-]+$/;

/** `[a-z0-9-]+`, for limits, providers and deny patterns. */
export const name = (what: string) =>
  z.string().regex(NAME_RE, {
    error: present(
      (iss) => `${show(iss.input)} is not a valid ${what} name, expected lower-case letters, digits and -`,
    ),
  });

const durationMessage = present(
  (iss) => `${show(iss.input)} is not a duration, expected an integer and a unit (ms, s, m, h, d) such as 5s`,
);
export const duration = z.string({ error: durationMessage }).regex(DURATION_RE, { error: durationMessage });

const rateMessage = present(
  (iss) => `${show(iss.input)} is not a rate, expected N/DURATION with N ≥ 1 such as 10/1s, 60/1m or 1000/1h`,
);
export const rate = z.string({ error: rateMessage }).regex(RATE_RE, { error: rateMessage });

const sizeMessage = present(
  (iss) => `${show(iss.input)} is not a size, expected bytes or a size such as 512KiB, 4MiB or 1MB`,
);
export const size = z.union([
  z.int({ error: sizeMessage }).min(1, { error: sizeMessage }),
  z.string({ error: sizeMessage }).regex(SIZE_RE, { error: sizeMessage }),
]);

export const positiveInt = z
  .int({ error: present((iss) => `${show(iss.input)} is not an integer, expected an integer ≥ 1`) })
  .min(1, {
    error: present((iss) => `${String(iss.input)} is too small, expected an integer ≥ 1`),
  });

/** A path glob as used in `auth.public` and `limits[].paths`. */
export const pathGlob = z.string().regex(/^\/[^?#\s]*$/, {
  error: present(
    (iss) => `${show(iss.input)} is not a path glob, expected a path starting with / (* one segment, ** any)`,
  ),
});

/** A JavaScript regular expression source that must compile. */
export const regexSource = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (err) {
    const reason = (err as Error).message.replace(/^Invalid regular expression: /, "");
    ctx.addIssue({
      code: "custom",
      message: `does not compile (${reason}), expected a JavaScript regular expression`,
    });
  }
});

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** An absolute http(s) URL without credentials, query or fragment; `httpsOnly` allows http on loopback only. */
export const httpUrl = (httpsOnly = false) =>
  z.string().superRefine((text, ctx) => {
    const problem = urlProblem(text, httpsOnly);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

function urlProblem(text: string, httpsOnly: boolean): string | undefined {
  // The value itself is never echoed: a URL may come from the environment and hold a token.
  const url = URL.parse(text);
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
    return "is not an http(s) URL, expected e.g. https://host[:port][/path]";
  if (url.username || url.password) return "contains credentials, expected a URL without user:password@";
  if (url.search || url.hash || text.includes("?") || text.includes("#"))
    return "has a query or fragment, expected scheme://host[:port][/path] only";
  if (httpsOnly && url.protocol === "http:" && !LOOPBACK_HOSTS.has(url.hostname))
    return "uses http, expected https (http is allowed only for 127.0.0.1 and localhost)";
  return undefined;
}

/** `scheme://host[:port]`, exactly as browsers send it in `Origin`. */
export const origin = z.string().superRefine((text, ctx) => {
  const url = URL.parse(text);
  const ok = url && (url.protocol === "http:" || url.protocol === "https:") && url.origin === text;
  if (!ok)
    ctx.addIssue({
      code: "custom",
      message: `${show(text)} is not an origin, expected scheme://host[:port] in lower case without path, e.g. https://app.example.com`,
    });
});

/** An IPv4/IPv6 address or CIDR block. */
export const cidr = z.string().superRefine((text, ctx) => {
  if (!isCidr(text))
    ctx.addIssue({
      code: "custom",
      message: `${show(text)} is not an IP address or CIDR, expected e.g. 10.0.0.0/8, 192.0.2.7 or fd00::/8`,
    });
});

function isCidr(text: string): boolean {
  const [address = "", prefix, extra] = text.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^(0|[1-9][0-9]{0,2})$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** An environment variable name. */
export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: present(
    (iss) => `${show(iss.input)} is not an environment variable name, expected e.g. KEYGATE_JWT_SECRET`,
  ),
});

/** An HTTP header name (RFC 9110 token). */
export const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
  error: present((iss) => `${show(iss.input)} is not a header name, expected e.g. openai-organization`),
});

/** Offers every allowed value in the message, so a typo is fixed without reading docs. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: present((iss) => `${show(iss.input)} is not allowed, expected one of: ${values.join(", ")}`),
  });
