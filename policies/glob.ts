/**
 * Glob matchers, compiled once at load time. Path globs work on `/`-separated
 * segments; model globs on plain strings. Everything except `*` is literal.
 */

const SPECIAL = /[\\^$.|?+()[\]{}]/g;

function literal(text: string): string {
  return text.replace(SPECIAL, "\\$&");
}

/** One path glob's regex source: `*` is one non-empty segment, `**` any number of segments (none included). */
function pathGlobSource(glob: string): string {
  let out = "";
  for (const segment of glob.split("/").slice(1)) {
    if (segment === "**") out += "(?:/[^/]*)*";
    else if (segment === "*") out += "/[^/]+";
    // A `*` inside a segment (`*.json`) stays within that segment.
    else out += `/${segment.split(/\*+/).map(literal).join("[^/]*")}`;
  }
  return out;
}

/**
 * One RegExp matching any of `globs` (each starting with `/`), whole path only.
 * Example: `compilePathGlobs(["/api/v1/login/*"]).test("/api/v1/login/google") === true`.
 */
export function compilePathGlobs(globs: readonly string[]): RegExp {
  return new RegExp(`^(?:${globs.map(pathGlobSource).join("|")})$`);
}

/**
 * A predicate matching any of `globs` where `*` is any run of characters.
 * Example: `compileWildcards(["gpt-4o*"])("gpt-4o-mini") === true`.
 */
export function compileWildcards(globs: readonly string[]): (value: string) => boolean {
  const re = new RegExp(`^(?:${globs.map((g) => g.split("*").map(literal).join(".*")).join("|")})$`, "s");
  return (value) => re.test(value);
}
