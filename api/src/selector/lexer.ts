/**
 * Selector lexer: turns the text at a position into one token.
 *
 * It is pull-based (the parser asks for the next token and says what it expects there) rather
 * than tokenising the whole string up front as libcalico-go does. That lets a lexical error say
 * what the grammar wanted at that spot ("unexpected character "%" at position 9, expected a
 * quoted string"), and it is how the one context-sensitive rule is expressed: the words
 * `contains`, `starts with`, `ends with`, `not in` and `in` are operators only straight after a
 * label key, so `contains contains "contains"` is a valid selector on a label named `contains`.
 *
 * Lexical rules, all taken from Calico's tokenizer:
 * - Whitespace is space and tab only. A newline or carriage return is an unexpected character,
 *   as in Calico (its `Normalise` trims them, its parser does not).
 * - String literals are `"..."` or `'...'` with no escapes; each quote style can contain the
 *   other quote character, and any other character including newlines.
 * - A label key is a run of 1..512 characters from `[a-zA-Z0-9_./-]`; it may start with any of
 *   them (Calico does not require a letter first).
 * - `has(`, `all(` and `global(` must be written without a space before `(`; blanks are allowed
 *   inside the parentheses. `has (x)` is the label `has` followed by `(`, which is an error.
 * - Multi-word operators allow any blanks between the words, including none (`startswith`,
 *   `notin`), and all operator words must end at a word boundary (`a instance` is an error).
 */

import { SelectorSyntaxError } from './errors.js';

export type TokenKind =
  | 'label'
  | 'string'
  | '('
  | ')'
  | '{'
  | '}'
  | ','
  | '=='
  | '!='
  | '!'
  | '&&'
  | '||'
  | 'in'
  | 'not in'
  | 'contains'
  | 'starts with'
  | 'ends with'
  | 'has'
  | 'all'
  | 'global'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Offset of the first character of the token (after any blanks). */
  readonly start: number;
  /** Offset just past the token. */
  readonly end: number;
  /** The label key (for `label` and `has`), the literal's contents (for `string`), else "". */
  readonly value: string;
}

/** Calico's limit on label key length in selectors (tokenizer.MaxLabelLength). */
export const SELECTOR_MAX_LABEL_KEY_LENGTH = 512;

const OPERATOR_WORDS: ReadonlyArray<readonly [TokenKind, readonly string[]]> = [
  ['contains', ['contains']],
  ['starts with', ['starts', 'with']],
  ['ends with', ['ends', 'with']],
  ['not in', ['not', 'in']],
  ['in', ['in']],
];

/**
 * Reads the token that starts at or after `from`.
 *
 * `afterLabel` is true when the previous token was a label key, which switches words to operator
 * recognition. `expected` describes what the parser wants next and is used only in messages.
 */
export function nextToken(text: string, from: number, afterLabel: boolean, expected: string): Token {
  const start = skipBlanks(text, from);
  if (start >= text.length) return { kind: 'eof', start, end: start, value: '' };

  switch (text[start]) {
    case '(':
    case ')':
    case '{':
    case '}':
    case ',':
      return { kind: text[start], start, end: start + 1, value: '' };
    case '"':
    case "'":
      return stringToken(text, start);
    case '=':
      return pairToken(text, start, '==');
    case '&':
      return pairToken(text, start, '&&');
    case '|':
      return pairToken(text, start, '||');
    case '!':
      if (text[start + 1] === '=') return { kind: '!=', start, end: start + 2, value: '' };
      return { kind: '!', start, end: start + 1, value: '' };
  }

  if (afterLabel) return operatorToken(text, start, expected);
  if (text.startsWith('has(', start)) return hasToken(text, start);
  if (text.startsWith('all(', start)) return emptyCallToken(text, start, 'all');
  if (text.startsWith('global(', start)) return emptyCallToken(text, start, 'global');

  const end = labelEnd(text, start, expected);
  return { kind: 'label', start, end, value: text.slice(start, end) };
}

/** Human-readable form of a token for "unexpected ..." messages. */
export function describeToken(text: string, token: Token): string {
  if (token.kind === 'eof') return 'unexpected end of selector';
  return `unexpected token ${JSON.stringify(text.slice(token.start, token.end))}`;
}

function skipBlanks(text: string, pos: number): number {
  while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
  return pos;
}

function isLabelChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x5f || // _
    code === 0x2e || // .
    code === 0x2f || // /
    code === 0x2d // -
  );
}

function identEnd(text: string, start: number): number {
  let end = start;
  while (end < text.length && isLabelChar(text.charCodeAt(end))) end++;
  return end;
}

/** End of the label key starting at `start`; throws if there is none or it is too long. */
function labelEnd(text: string, start: number, expected: string): number {
  const end = identEnd(text, start);
  if (end === start) throw unexpectedCharacter(text, start, expected);
  if (end - start > SELECTOR_MAX_LABEL_KEY_LENGTH) {
    throw new SelectorSyntaxError(
      text,
      start,
      `label key of ${end - start} characters is too long`,
      `a label key of at most ${SELECTOR_MAX_LABEL_KEY_LENGTH} characters`,
    );
  }
  return end;
}

function unexpectedCharacter(text: string, pos: number, expected: string): SelectorSyntaxError {
  if (pos >= text.length) return new SelectorSyntaxError(text, pos, 'unexpected end of selector', expected);
  const ch = String.fromCodePoint(text.codePointAt(pos)!);
  return new SelectorSyntaxError(text, pos, `unexpected character ${JSON.stringify(ch)}`, expected);
}

function stringToken(text: string, start: number): Token {
  const quote = text[start];
  const close = text.indexOf(quote, start + 1);
  if (close < 0) {
    throw new SelectorSyntaxError(text, start, 'unterminated string literal', `a closing ${quote}`);
  }
  return { kind: 'string', start, end: close + 1, value: text.slice(start + 1, close) };
}

function pairToken(text: string, start: number, pair: '==' | '&&' | '||'): Token {
  if (text[start + 1] !== pair[1]) {
    const problem = `unexpected character ${JSON.stringify(pair[0])}`;
    throw new SelectorSyntaxError(text, start, problem, `"${pair}"`);
  }
  return { kind: pair, start, end: start + 2, value: '' };
}

function operatorToken(text: string, start: number, expected: string): Token {
  for (const [kind, words] of OPERATOR_WORDS) {
    const end = matchWords(text, start, words);
    if (end >= 0) return { kind, start, end, value: '' };
  }
  const wordEnd = identEnd(text, start);
  if (wordEnd === start) throw unexpectedCharacter(text, start, expected);
  const problem = `unexpected token ${JSON.stringify(text.slice(start, wordEnd))}`;
  throw new SelectorSyntaxError(text, start, problem, expected);
}

/** Matches blank-separated `words` at `pos`; returns the end offset or -1. */
function matchWords(text: string, pos: number, words: readonly string[]): number {
  let p = pos;
  for (let i = 0; i < words.length; i++) {
    if (i > 0) p = skipBlanks(text, p);
    const word = words[i];
    if (!text.startsWith(word, p)) return -1;
    p += word.length;
  }
  return p < text.length && isLabelChar(text.charCodeAt(p)) ? -1 : p;
}

function hasToken(text: string, start: number): Token {
  const keyStart = skipBlanks(text, start + 'has('.length);
  const keyEnd = labelEnd(text, keyStart, 'a label key inside has(...)');
  const close = skipBlanks(text, keyEnd);
  if (text[close] !== ')') throw unexpectedCharacter(text, close, '")" to close has(');
  return { kind: 'has', start, end: close + 1, value: text.slice(keyStart, keyEnd) };
}

function emptyCallToken(text: string, start: number, name: 'all' | 'global'): Token {
  const close = skipBlanks(text, start + name.length + 1);
  if (text[close] !== ')') throw unexpectedCharacter(text, close, `")" to close ${name}(`);
  return { kind: name, start, end: close + 1, value: '' };
}
