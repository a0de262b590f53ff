/**
 * What users and ops see of a stored key: enough to tell two keys apart,
 * never more than 7 characters of it, and never more than about half.
 *
 * - 12 characters or more: first 3, `…`, last 4 (`sk-…wxyz`), as SPEC §5 says.
 * - 6 to 11: `…` and the last 2 (a key this short is unusual; showing 7 of 8 would give it away).
 * - shorter: `…` alone.
 *
 * Counts code points, so a hint never splits a surrogate pair.
 *
 * @example keyHint("sk-test-0123456789abcdef") // "sk-…cdef"
 */
export function keyHint(apiKey: string): string {
  const chars = Array.from(apiKey);
  if (chars.length >= 12) return `${chars.slice(0, 3).join("")}…${chars.slice(-4).join("")}`;
  if (chars.length >= 6) return `…${chars.slice(-2).join("")}`;
  return "…";
}
