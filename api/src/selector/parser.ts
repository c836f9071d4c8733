/**
 * Recursive-descent parser for Calico selectors, producing the tree in `ast.ts`.
 *
 * Grammar (precedence from loosest to tightest: `||`, `&&`, prefix `!`):
 *
 *   selector   := <blank> | or
 *   or         := and ( "||" and )*
 *   and        := operation ( "&&" operation )*
 *   operation  := "!"* ( "has(" key ")" | "all()" | "global()" | "(" or ")" | key comparison )
 *   comparison := ( "==" | "!=" | "contains" | "starts with" | "ends with" ) string
 *               | ( "in" | "not in" ) "{" [ string ( "," string )* [ "," ] ] "}"
 *
 * This follows libcalico-go's parser decision for decision, including the less obvious ones:
 * - a run of `!` collapses to its parity, so `!!has(a)` is `has(a)`;
 * - `!` applies to the whole following operation: `!a == "b"` is `!(a == "b")`;
 * - a set may end with a trailing comma (`{"a",}`) and may be empty (`{}`);
 * - the label must be on the left: `"v" == k` is an error.
 *
 * Parentheses may nest at most SELECTOR_MAX_NESTING deep. Calico has no such limit (Go stacks
 * grow); here deep recursion would end in a RangeError, so very deep input is rejected as a
 * syntax error instead. Real selectors nest a handful of levels.
 */

import { ALL_NODE, GLOBAL_NODE, booleanNode, hasNode, notNode, setNode, valueNode, type SelectorNode, type ValueOperator } from './ast.js';
import { SelectorSyntaxError } from './errors.js';
import { describeToken, nextToken, type Token } from './lexer.js';

export const SELECTOR_MAX_NESTING = 512;

const EXPECT_OPERAND = 'a label key, has(...), all(), global(), "!" or "("';
const EXPECT_OPERATOR = 'an operator (==, !=, in, not in, contains, starts with, ends with)';
const EXPECT_AFTER_OPERAND_NESTED = '"&&", "||" or ")"';
const EXPECT_AFTER_OPERAND_TOP = '"&&", "||" or end of selector';

const VALUE_OPERATORS: Partial<Record<Token['kind'], ValueOperator>> = {
  '==': 'eq',
  '!=': 'ne',
  contains: 'contains',
  'starts with': 'startsWith',
  'ends with': 'endsWith',
};

interface ParseState {
  readonly text: string;
  pos: number;
  depth: number;
}

/** Parses `text` into a syntax tree; throws SelectorSyntaxError. Blank text means `all()`. */
export function parseSelectorText(text: string): SelectorNode {
  const st: ParseState = { text, pos: 0, depth: 0 };
  if (nextToken(text, 0, false, EXPECT_OPERAND).kind === 'eof') return ALL_NODE;
  const node = parseOr(st);
  const trailing = nextToken(text, st.pos, false, EXPECT_AFTER_OPERAND_TOP);
  if (trailing.kind !== 'eof') throw unexpected(st, trailing, EXPECT_AFTER_OPERAND_TOP);
  return node;
}

function parseOr(st: ParseState): SelectorNode {
  const operands = [parseAnd(st)];
  for (;;) {
    const tok = nextToken(st.text, st.pos, false, afterOperand(st));
    if (tok.kind !== '||') return booleanNode('or', operands);
    st.pos = tok.end;
    operands.push(parseAnd(st));
  }
}

function parseAnd(st: ParseState): SelectorNode {
  const operands = [parseOperation(st)];
  for (;;) {
    const tok = nextToken(st.text, st.pos, false, afterOperand(st));
    if (tok.kind !== '&&') return booleanNode('and', operands);
    st.pos = tok.end;
    operands.push(parseOperation(st));
  }
}

function parseOperation(st: ParseState): SelectorNode {
  let negated = false;
  let tok = take(st, false, EXPECT_OPERAND);
  while (tok.kind === '!') {
    negated = !negated;
    tok = take(st, false, EXPECT_OPERAND);
  }

  let node: SelectorNode;
  switch (tok.kind) {
    case 'has':
      node = hasNode(tok.value);
      break;
    case 'all':
      node = ALL_NODE;
      break;
    case 'global':
      node = GLOBAL_NODE;
      break;
    case 'label':
      node = parseComparison(st, tok.value);
      break;
    case '(':
      node = parseParenthesised(st, tok);
      break;
    default:
      throw unexpected(st, tok, EXPECT_OPERAND);
  }
  return negated ? notNode(node) : node;
}

function parseParenthesised(st: ParseState, open: Token): SelectorNode {
  if (st.depth >= SELECTOR_MAX_NESTING) {
    throw new SelectorSyntaxError(st.text, open.start, 'too many nested parentheses', `at most ${SELECTOR_MAX_NESTING} levels of nesting`);
  }
  st.depth++;
  const node = parseOr(st);
  const close = take(st, false, EXPECT_AFTER_OPERAND_NESTED);
  if (close.kind !== ')') throw unexpected(st, close, EXPECT_AFTER_OPERAND_NESTED);
  st.depth--;
  return node;
}

function parseComparison(st: ParseState, key: string): SelectorNode {
  const op = take(st, true, EXPECT_OPERATOR);
  const valueOp = VALUE_OPERATORS[op.kind];
  if (valueOp !== undefined) {
    const literal = take(st, false, 'a quoted string');
    if (literal.kind !== 'string') throw unexpected(st, literal, 'a quoted string');
    return valueNode(valueOp, key, literal.value);
  }
  if (op.kind === 'in' || op.kind === 'not in') {
    return setNode(op.kind === 'in' ? 'in' : 'notIn', key, parseSetLiteral(st));
  }
  throw unexpected(st, op, EXPECT_OPERATOR);
}

function parseSetLiteral(st: ParseState): string[] {
  const open = take(st, false, '"{"');
  if (open.kind !== '{') throw unexpected(st, open, '"{"');

  const values: string[] = [];
  let expected = 'a quoted string or "}"';
  let tok = take(st, false, expected);
  while (tok.kind === 'string') {
    values.push(tok.value);
    expected = '"," or "}"';
    tok = take(st, false, expected);
    if (tok.kind !== ',') break;
    expected = 'a quoted string or "}"';
    tok = take(st, false, expected);
  }
  if (tok.kind !== '}') throw unexpected(st, tok, expected);
  return values;
}

/** Reads the next token and moves past it. */
function take(st: ParseState, afterLabel: boolean, expected: string): Token {
  const tok = nextToken(st.text, st.pos, afterLabel, expected);
  st.pos = tok.end;
  return tok;
}

function afterOperand(st: ParseState): string {
  return st.depth > 0 ? EXPECT_AFTER_OPERAND_NESTED : EXPECT_AFTER_OPERAND_TOP;
}

function unexpected(st: ParseState, tok: Token, expected: string): SelectorSyntaxError {
  return new SelectorSyntaxError(st.text, tok.start, describeToken(st.text, tok), expected);
}
