/**
 * Canonical text of a selector tree, byte-for-byte the form libcalico-go's `Selector.String()`
 * produces, because Calico derives the selector's unique ID (and from it Felix's IP set names)
 * by hashing this string.
 *
 * Formatting rules (from libcalico-go `collectFragments`):
 *   all()  global()  has(k)  !<operand>
 *   k == "v"   k != "v"   k contains "v"   k starts with "v"   k ends with "v"
 *   k in {"a", "b"}   k not in {}            (set sorted and de-duplicated by the parser)
 *   (x && y && z)     (x || y)               (every and/or node is wrapped, even at the top)
 * A literal is quoted with `"` unless it contains `"`, in which case `'` is used; a literal
 * cannot contain both, since the grammar has no escapes.
 *
 * `keyPrefix` is libcalico-go's PrefixVisitor: the same text with every label key prefixed
 * (Felix scopes namespace and service-account selectors with `pcns.` / `pcsa.` this way).
 */

import type { SelectorNode } from './ast.js';

const VALUE_OPERATOR_TEXT = {
  eq: ' == ',
  ne: ' != ',
  contains: ' contains ',
  startsWith: ' starts with ',
  endsWith: ' ends with ',
} as const;

export function formatSelectorNode(node: SelectorNode, keyPrefix = ''): string {
  const parts: string[] = [];
  appendNode(parts, node, keyPrefix);
  return parts.join('');
}

function appendNode(parts: string[], node: SelectorNode, prefix: string): void {
  switch (node.kind) {
    case 'all':
      parts.push('all()');
      return;
    case 'global':
      parts.push('global()');
      return;
    case 'has':
      parts.push('has(', prefix + node.key, ')');
      return;
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      parts.push(prefix + node.key, VALUE_OPERATOR_TEXT[node.kind], quote(node.value));
      return;
    case 'in':
    case 'notIn':
      parts.push(prefix + node.key, node.kind === 'in' ? ' in {' : ' not in {');
      for (let i = 0; i < node.values.length; i++) {
        if (i > 0) parts.push(', ');
        parts.push(quote(node.values[i]));
      }
      parts.push('}');
      return;
    case 'not':
      parts.push('!');
      appendNode(parts, node.operand, prefix);
      return;
    case 'and':
    case 'or': {
      const joiner = node.kind === 'and' ? ' && ' : ' || ';
      parts.push('(');
      for (let i = 0; i < node.operands.length; i++) {
        if (i > 0) parts.push(joiner);
        appendNode(parts, node.operands[i], prefix);
      }
      parts.push(')');
      return;
    }
  }
}

function quote(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}
