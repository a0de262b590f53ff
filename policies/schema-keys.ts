/** Which keys a strict object in the schema allows at a given path; for "unknown key" messages. */
import type { z } from "zod";

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
};

const def = (schema: z.ZodType): Def => schema._zod.def as unknown as Def;

/** Strips optional/default/pipe wrappers and picks the object branch of a union. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const d = def(s);
    const inner = d.innerType ?? d.in ?? d.options?.find((o) => def(unwrap(o)).type === "object");
    if (!inner || d.type === "object") return s;
    s = inner;
  }
}

/** The allowed keys of the object schema at `path` (numbers step into lists, any key into maps). */
export function keysAt(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: z.ZodType | undefined = root;
  for (const segment of path) {
    const d = def(unwrap(s));
    s = d.type === "object" ? d.shape?.[String(segment)] : d.type === "array" ? d.element : d.valueType;
    if (!s) return [];
  }
  return Object.keys(def(unwrap(s)).shape ?? {});
}
