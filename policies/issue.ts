/** One problem found in a policy file, before it is located and formatted. */
export interface PolicyIssue {
  /** Field path inside the file, e.g. `["limits", 1, "rate"]`. */
  readonly path: readonly (string | number)[];
  /** "what is wrong, what is expected". */
  readonly message: string;
  /**
   * Where the line/column points: at the value (default), at the key itself
   * (unknown keys, bad map keys), or at the parent (a missing field).
   */
  readonly at?: "value" | "key" | "parent";
}
