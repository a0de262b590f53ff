/** Maps a field path to its line and column in the YAML source, and formats the final message. */
import { type Document, isMap, isScalar, type LineCounter } from "yaml";
import type { PolicyIssue } from "./issue.ts";

type Position = { line: number; col: number };

function offsetOf(doc: Document, issue: PolicyIssue): number | undefined {
  const path = issue.at === "parent" ? issue.path.slice(0, -1) : issue.path;
  for (let n = path.length; n >= 0; n--) {
    const target = path.slice(0, n);
    if (issue.at === "key" && n === path.length) {
      const parent = n === 1 ? doc.contents : doc.getIn(target.slice(0, -1), true);
      const pair = isMap(parent)
        ? parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(target[n - 1]))
        : undefined;
      const keyRange = isScalar(pair?.key) ? pair.key.range : undefined;
      if (keyRange) return keyRange[0];
      continue;
    }
    const node = n === 0 ? doc.contents : doc.getIn(target, true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return range[0];
  }
  return undefined;
}

/** Line and column (1-based) of the issue; 1:1 when the file has no such node at all. */
export function locate(doc: Document, lines: LineCounter, issue: PolicyIssue): Position {
  const offset = offsetOf(doc, issue);
  return offset === undefined ? { line: 1, col: 1 } : lines.linePos(offset);
}

/** `limits[1].rate`; `(file)` for the file as a whole. */
export function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return "(file)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** `FILE:LINE:COL: path.to.field: what is wrong, what is expected`. */
export function formatIssue(file: string, pos: Position, path: string, message: string): string {
  return `${file}:${pos.line}:${pos.col}: ${path}: ${message}`;
}
