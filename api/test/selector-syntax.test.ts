/**
 * Which texts are selectors, what they canonicalise to, and where and why the others fail.
 * Expected canonical strings follow libcalico-go's `String()` (several rows are copied from its
 * parser_test.go canonicalisation table).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SELECTOR_MAX_LABEL_KEY_LENGTH, SELECTOR_MAX_NESTING, SelectorSyntaxError, parseSelector, validateSelector } from '../src/selector/index.js';

function canonical(text: string): string {
  return parseSelector(text).toString();
}

describe('selector syntax accepted', () => {
  // [input, canonical form]
  const rows: Array<[string, string]> = [
    ["k == 'v'", 'k == "v"'],
    ['k == "v"', 'k == "v"'],
    ['k=="v"', 'k == "v"'],
    ["\tk\t!=\t'v'\t", 'k != "v"'],
    ['  has(  k  )  ', 'has(k)'],
    ['!has(k)', '!has(k)'],
    ['k in {\'a\', "b"}', 'k in {"a", "b"}'],
    ["k in{'b','a'}", 'k in {"a", "b"}'],
    ["k in {'a',}", 'k in {"a"}'], // trailing comma, as Calico's parser allows
    ['k in {}', 'k in {}'],
    ["k not in {'a'}", 'k not in {"a"}'],
    ["k notin {'a'}", 'k not in {"a"}'],
    ["k not   in {'a'}", 'k not in {"a"}'],
    ["k contains's'", 'k contains "s"'],
    ["k starts with 's'", 'k starts with "s"'],
    ["k startswith 's'", 'k starts with "s"'],
    ["k starts \t with 's'", 'k starts with "s"'],
    ["k ends with 's'", 'k ends with "s"'],
    ["k endswith 's'", 'k ends with "s"'],
    ['all()', 'all()'],
    ['all(  )', 'all()'],
    ['', 'all()'],
    ['   ', 'all()'],
    ['global()', 'global()'],
    // Label key syntax: [a-zA-Z0-9_./-], any character first, DNS-style prefixes.
    ["projectcalico.org/namespace == 'kube-system'", 'projectcalico.org/namespace == "kube-system"'],
    ["k8s-app == 'kube-dns'", 'k8s-app == "kube-dns"'],
    ['has(calico/k8s_NS-.1/role)', 'has(calico/k8s_NS-.1/role)'],
    ["-x.y_z/0 == 'a'", '-x.y_z/0 == "a"'],
    [`${'k'.repeat(SELECTOR_MAX_LABEL_KEY_LENGTH)} == 'a'`, `${'k'.repeat(SELECTOR_MAX_LABEL_KEY_LENGTH)} == "a"`],
    // Operator words are only operators straight after a label; elsewhere they are labels.
    ["contains contains 'contains'", 'contains contains "contains"'],
    ["in in {'in'}", 'in in {"in"}'],
    ["not in {'x'}", 'not in {"x"}'],
    ["startswith starts with 'x'", 'startswith starts with "x"'],
    ['has(has)', 'has(has)'],
    ["all == 'x'", 'all == "x"'],
    ["global != 'x'", 'global != "x"'],
    // Quotes: the canonical form uses " unless the value contains ".
    [`a == "'"`, `a == "'"`],
    [`a == '"'`, `a == '"'`],
    [`a != '"'`, `a != '"'`],
    [`a contains '"'`, `a contains '"'`],
    [`a in {'"', "'"}`, `a in {'"', "'"}`],
    // String literals take any character except their own quote, including newlines.
    ['a == "x\ny"', 'a == "x\ny"'],
    ['a == "日本 😀"', 'a == "日本 😀"'],
    // Sets are de-duplicated and sorted in Go (UTF-8 byte) order.
    ['a in {"z", "z", "x", "y", "x", "a"}', 'a in {"a", "x", "y", "z"}'],
    ['a in {"b", "B", "a", "_"}', 'a in {"B", "_", "a", "b"}'],
    ['a in {"😀", "\uE000"}', 'a in {"\uE000", "😀"}'],
    // Examples from libcalico-go's canonicalisation tests.
    ['! (has( b)||! has(a ))', '!(has(b) || !has(a))'],
    ['! (a == "b"&&! c != "d")', '!(a == "b" && !c != "d")'],
    [`a!='"'`, `a != '"'`],
  ];

  for (const [input, expected] of rows) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
      const sel = parseSelector(input);
      assert.equal(sel.toString(), expected);
      assert.equal(String(sel), expected);
      // Round trip: the canonical form is a fixed point and keeps the same ID.
      const again = parseSelector(expected);
      assert.equal(again.toString(), expected);
      assert.equal(again.uniqueId(), sel.uniqueId());
      assert.equal(validateSelector(input), undefined);
    });
  }

  it('uses Go string order for set membership, not only for printing', () => {
    const sel = parseSelector('a in {"😀", "\uE000", "b"}');
    assert.equal(sel.evaluate({ a: '😀' }), true);
    assert.equal(sel.evaluate({ a: '\uE000' }), true);
    assert.equal(sel.evaluate({ a: 'b' }), true);
    assert.equal(sel.evaluate({ a: '\uD83D' }), false);
  });

  it('gives equivalent spellings the same canonical form and ID', () => {
    const spellings = [
      `role in {"db", 'web'} && !has(canary) || env == 'dev'`,
      `(role in {'web','db','web'}&&! has( canary ))||env=="dev"`,
      ` ( (role in {"web", "db"}) && (!!!has(canary)) ) || (env == "dev") `,
      `role in{'db','web',}&&!has(canary)||env=='dev'`,
    ];
    const expected = '((role in {"db", "web"} && !has(canary)) || env == "dev")';
    const ids = new Set<string>();
    for (const text of spellings) {
      const sel = parseSelector(text);
      assert.equal(sel.toString(), expected, text);
      ids.add(sel.uniqueId());
    }
    assert.equal(ids.size, 1);
  });
});

describe('selector syntax rejected', () => {
  // [input, error position, a fragment of the expectation]
  const rows: Array<[string, number, string]> = [
    ['b == b', 5, 'a quoted string'],
    ['b contains b', 11, 'a quoted string'],
    ['b starts with b', 14, 'a quoted string'],
    ['b ends with b', 12, 'a quoted string'],
    ["'b1' == b", 0, 'a label key'],
    ['b', 1, 'an operator'],
    ['a ', 2, 'an operator'],
    ['a b', 2, 'an operator'],
    ['a squiggles "v"', 2, 'an operator'],
    ['a instance {}', 2, 'an operator'],
    ['a starts foo "v"', 2, 'an operator'],
    ['a ends foo "v"', 2, 'an operator'],
    ['a containsx "v"', 2, 'an operator'],
    ['a = "b"', 2, '"=="'],
    ['!', 1, 'a label key'],
    ['&&', 0, 'a label key'],
    ["a == 'b' && && c == 'd'", 12, 'a label key'],
    ['foo == "bar" &', 13, '"&&"'],
    ['foo == "bar" |', 13, '"||"'],
    ['foo != ||', 7, 'a quoted string'],
    ['foo in {"", ||', 12, 'a quoted string or "}"'],
    ['foo in {"" "x"}', 11, '"," or "}"'],
    ['foo in {,}', 8, 'a quoted string or "}"'],
    ['foo in ""', 7, '"{"'],
    ['foo in {"a"', 11, '"," or "}"'],
    ['"FOO', 0, 'a closing "'],
    [`"FOO'`, 0, 'a closing "'],
    ["'FOO", 0, "a closing '"],
    ['a == "b', 5, 'a closing "'],
    ['(', 1, 'a label key'],
    ['(a == "foo"', 11, '")"'],
    ['(a == "foo" || b == "x"', 23, '")"'],
    [')', 0, 'a label key'],
    ['()', 1, 'a label key'],
    ['a == "b")', 8, 'end of selector'],
    ['%', 0, 'a label key'],
    ['a == "b" && %', 12, 'a label key'],
    ['a == "b" || %', 12, 'a label key'],
    ['has(foo) &&', 11, 'a label key'],
    ['has()', 4, 'a label key inside has(...)'],
    ['has(a b)', 6, '")" to close has('],
    ['has(a', 5, '")" to close has('],
    ['has (a)', 4, 'an operator'],
    ['all(x)', 4, '")" to close all('],
    ['global(', 7, '")" to close global('],
    ['a == "b" c == "d"', 9, 'end of selector'],
    ['has(a) has(b)', 7, 'end of selector'],
    // Only space and tab are whitespace, as in Calico.
    ['a == "b"\n', 8, 'end of selector'],
    ['\na == "b"', 0, 'a label key'],
    ['a\r\n== "b"', 1, 'an operator'],
    // Non-ASCII outside a string literal.
    ['é == "x"', 0, 'a label key'],
    [`${'k'.repeat(SELECTOR_MAX_LABEL_KEY_LENGTH + 1)} == 'a'`, 0, `at most ${SELECTOR_MAX_LABEL_KEY_LENGTH} characters`],
  ];

  for (const [input, position, expected] of rows) {
    it(`${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}...` : input)} fails at ${position}`, () => {
      let caught: unknown;
      try {
        parseSelector(input);
      } catch (err) {
        caught = err;
      }
      assert.ok(caught instanceof SelectorSyntaxError, `expected SelectorSyntaxError, got ${String(caught)}`);
      assert.equal(caught.code, 'SELECTOR_SYNTAX');
      assert.equal(caught.name, 'SelectorSyntaxError');
      assert.equal(caught.position, position, caught.message);
      assert.equal(caught.selector, input);
      assert.ok(caught.expected.includes(expected), `"${caught.expected}" should mention ${expected}`);
      assert.match(caught.message, new RegExp(`^.+ at position ${position}, expected .+$`, 's'));
      assert.equal(validateSelector(input), caught.message);
    });
  }

  it('names the offending token and what was expected', () => {
    assert.equal(validateSelector("a == 'b' && && c"), 'unexpected token "&&" at position 12, expected a label key, has(...), all(), global(), "!" or "("');
    assert.equal(validateSelector('a == '), 'unexpected end of selector at position 5, expected a quoted string');
    assert.equal(
      validateSelector('a % "b"'),
      'unexpected character "%" at position 2, expected an operator ' + '(==, !=, in, not in, contains, starts with, ends with)',
    );
  });

  it('accepts nesting up to SELECTOR_MAX_NESTING and rejects deeper input without overflowing the stack', () => {
    const ok = `${'('.repeat(SELECTOR_MAX_NESTING)}has(a)${')'.repeat(SELECTOR_MAX_NESTING)}`;
    assert.equal(canonical(ok), 'has(a)');
    const deep = `${'('.repeat(SELECTOR_MAX_NESTING + 1)}has(a)${')'.repeat(SELECTOR_MAX_NESTING + 1)}`;
    assert.throws(
      () => parseSelector(deep),
      (err: unknown) => {
        assert.ok(err instanceof SelectorSyntaxError);
        assert.equal(err.position, SELECTOR_MAX_NESTING);
        return true;
      },
    );
    const huge = `${'('.repeat(100_000)}has(a)`;
    assert.throws(() => parseSelector(huge), SelectorSyntaxError);
  });
});
