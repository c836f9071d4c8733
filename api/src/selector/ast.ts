/**
 * The selector syntax tree.
 *
 * Nodes are plain frozen objects with a `kind` discriminant rather than classes: the tree is
 * data that several independent consumers walk (the evaluator, the canonical formatter, and
 * later Felix's selector index), and a closed union lets each of them switch exhaustively
 * without the tree knowing about them.
 *
 * The shapes mirror libcalico-go's AST one for one (LabelEqValueNode -> `eq`, LabelInSetNode ->
 * `in`, ...), because the canonical string, and therefore the unique ID, is a function of that
 * shape. In particular `&&`/`||` chains are NOT flattened across parentheses: Calico prints
 * `(a && b) && c` as `((a == .. && b == ..) && c == ..)`, and so do we.
 */

/** Matches every resource. The empty selector parses to this. */
export interface AllNode {
  readonly kind: 'all';
}

/** Matches non-namespaced resources; see `EvaluateOptions.namespaced` for how that is decided. */
export interface GlobalNode {
  readonly kind: 'global';
}

/** `has(key)`: the label is present, with any value (including ""). */
export interface HasNode {
  readonly kind: 'has';
  readonly key: string;
}

/** The binary operators that compare one label with one string literal. */
export type ValueOperator = 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';

/** `key == "v"`, `key != "v"`, `key contains "v"`, `key starts with "v"`, `key ends with "v"`. */
export interface ValueNode {
  readonly kind: ValueOperator;
  readonly key: string;
  readonly value: string;
}

/**
 * `key in {...}` / `key not in {...}`. `values` is de-duplicated and sorted in Go string order
 * (UTF-8 byte order), exactly as Calico stores it, so the canonical form does not depend on how
 * the user ordered the set.
 */
export interface SetNode {
  readonly kind: 'in' | 'notIn';
  readonly key: string;
  readonly values: readonly string[];
}

/** `!expr`. Never directly wraps another `not`: double negation is removed when parsing. */
export interface NotNode {
  readonly kind: 'not';
  readonly operand: SelectorNode;
}

/** `a && b && ...` or `a || b || ...` with two or more operands, in source order. */
export interface BooleanNode {
  readonly kind: 'and' | 'or';
  readonly operands: readonly SelectorNode[];
}

export type SelectorNode = AllNode | GlobalNode | HasNode | ValueNode | SetNode | NotNode | BooleanNode;

export const ALL_NODE: AllNode = Object.freeze({ kind: 'all' });
export const GLOBAL_NODE: GlobalNode = Object.freeze({ kind: 'global' });

export function hasNode(key: string): HasNode {
  return Object.freeze({ kind: 'has', key });
}

export function valueNode(kind: ValueOperator, key: string, value: string): ValueNode {
  return Object.freeze({ kind, key, value });
}

export function setNode(kind: 'in' | 'notIn', key: string, values: readonly string[]): SetNode {
  return Object.freeze({ kind, key, values: sortedUnique(values) });
}

/**
 * Negates `operand`, cancelling an existing negation instead of stacking a second one.
 *
 * Calico collapses runs of `!` but keeps `!(!x)` as two nodes and prints it `!!x`, which then
 * re-parses to plain `x`: its canonical form is not a fixed point for that input. Cancelling
 * here makes `parse(canonical(s))` always reproduce `canonical(s)`.
 */
export function notNode(operand: SelectorNode): SelectorNode {
  if (operand.kind === 'not') return operand.operand;
  return Object.freeze({ kind: 'not', operand });
}

export function booleanNode(kind: 'and' | 'or', operands: readonly SelectorNode[]): SelectorNode {
  if (operands.length === 1) return operands[0];
  return Object.freeze({ kind, operands: Object.freeze([...operands]) });
}

/**
 * Orders strings the way Go's `<` does (by UTF-8 bytes, which is code point order).
 *
 * JavaScript's default comparison is by UTF-16 code unit, which disagrees with code point order
 * only when a surrogate (U+D800-DFFF) meets a BMP character at or above U+E000. Shifting those
 * two ranges past each other at the first differing unit gives code point order without
 * decoding the strings.
 */
function compareGoStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

function sortedUnique(values: readonly string[]): readonly string[] {
  const sorted = [...values].sort(compareGoStrings);
  const out: string[] = [];
  for (const v of sorted) {
    if (out.length === 0 || out[out.length - 1] !== v) out.push(v);
  }
  return Object.freeze(out);
}

/** Binary search in a `SetNode.values` array (sorted by `compareGoStrings`). */
export function setContains(values: readonly string[], value: string): boolean {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareGoStrings(values[mid], value);
    if (c === 0) return true;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return false;
}
