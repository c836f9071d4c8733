/**
 * The public face of a parsed selector.
 *
 * A Selector is an immutable value: the frozen syntax tree plus the derived canonical string and
 * unique ID, computed on first use and then cached. It is a class only so the methods live once
 * on a prototype instead of as closures per selector (Felix holds one per policy rule); it has
 * no lifecycle. Callers see the `Selector` interface and cannot construct one except by parsing.
 */

import type { SelectorNode } from './ast.js';
import { formatSelectorNode } from './canonical.js';
import { evaluateNode, isLabelLookup, type EvaluateOptions, type LabelSource } from './evaluate.js';
import { SelectorSyntaxError } from './errors.js';
import { parseSelectorText } from './parser.js';
import { makeUniqueId } from './unique-id.js';

export interface Selector {
  /** The syntax tree, frozen. */
  readonly root: SelectorNode;
  /** Whether the labels match. See `evaluate.ts` for absent-label and `global()` semantics. */
  evaluate(labels: LabelSource, opts?: EvaluateOptions): boolean;
  /** Canonical text, identical to libcalico-go's `Selector.String()`. Parses back to itself. */
  toString(): string;
  /** `s:` + base64url(SHA-224(`s:` + canonical)), identical to libcalico-go's `UniqueID()`. */
  uniqueId(): string;
  /** Every label key the selector mentions (a new set on each call; order of first mention). */
  labelKeys(): ReadonlySet<string>;
}

class ParsedSelector implements Selector {
  readonly root: SelectorNode;
  #canonical: string | undefined;
  #uniqueId: string | undefined;

  constructor(root: SelectorNode) {
    this.root = root;
    Object.freeze(this);
  }

  evaluate(labels: LabelSource, opts?: EvaluateOptions): boolean {
    const globalMatches = opts?.namespaced === undefined ? true : !opts.namespaced;
    return evaluateNode(this.root, labels, isLabelLookup(labels), globalMatches);
  }

  toString(): string {
    this.#canonical ??= formatSelectorNode(this.root);
    return this.#canonical;
  }

  uniqueId(): string {
    this.#uniqueId ??= makeUniqueId('s', this.toString());
    return this.#uniqueId;
  }

  labelKeys(): ReadonlySet<string> {
    const keys = new Set<string>();
    collectKeys(this.root, keys);
    return keys;
  }
}

/** Parses Calico selector syntax. Blank text is `all()`. Throws SelectorSyntaxError. */
export function parseSelector(text: string): Selector {
  return new ParsedSelector(parseSelectorText(text));
}

/**
 * For the validation layer: the syntax error message, or undefined when `text` is valid.
 * Errors other than SelectorSyntaxError are bugs and are rethrown.
 */
export function validateSelector(text: string): string | undefined {
  try {
    parseSelectorText(text);
    return undefined;
  } catch (err) {
    if (err instanceof SelectorSyntaxError) return err.message;
    throw err;
  }
}

function collectKeys(node: SelectorNode, keys: Set<string>): void {
  switch (node.kind) {
    case 'all':
    case 'global':
      return;
    case 'not':
      collectKeys(node.operand, keys);
      return;
    case 'and':
    case 'or':
      for (const operand of node.operands) collectKeys(operand, keys);
      return;
    default:
      keys.add(node.key);
  }
}
