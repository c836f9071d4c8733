/**
 * Selector semantics: evaluation of every operator (including absent labels), precedence,
 * negation, global(), label sources, labelKeys and immutability. Syntax tables live in
 * selector-syntax.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseSelector, type LabelLookup } from '../src/selector/index.js';

type Labels = Record<string, string>;

function canonical(text: string): string {
  return parseSelector(text).toString();
}

describe('selector evaluation truth tables', () => {
  // [selector, labels, expected]. Every operator is checked with the label matching, present but
  // not matching, and absent, because the absent case is where Calico's semantics differ per op.
  const rows: Array<[string, Labels, boolean]> = [
    ['has(a)', { a: 'x' }, true],
    ['has(a)', { a: '' }, true],
    ['has(a)', { b: 'x' }, false],
    ['!has(a)', {}, true],
    ['!has(a)', { a: '' }, false],

    ["a == 'x'", { a: 'x' }, true],
    ["a == 'x'", { a: 'X' }, false],
    ["a == 'x'", { a: 'xx' }, false],
    ["a == 'x'", {}, false],
    ["a == ''", { a: '' }, true],
    ["a == ''", {}, false],

    ["a != 'x'", { a: 'x' }, false],
    ["a != 'x'", { a: 'y' }, true],
    ["a != 'x'", {}, true],
    ["a != ''", {}, true],

    ["a in {'x', 'y'}", { a: 'y' }, true],
    ["a in {'x', 'y'}", { a: 'z' }, false],
    ["a in {'x', 'y'}", {}, false],
    ['a in {}', { a: '' }, false],
    ['a in {}', {}, false],
    [`a in {"'", '"', "c"}`, { a: '"' }, true],
    [`a in {"'", '"', "c"}`, { a: "'" }, true],
    [`a in {"'", '"', "c"}`, { a: 'e' }, false],

    ["a not in {'x', 'y'}", { a: 'x' }, false],
    ["a not in {'x', 'y'}", { a: 'z' }, true],
    ["a not in {'x', 'y'}", {}, true],
    ['a not in {}', {}, true],
    ['a not in {}', { a: 'x' }, true],

    ["a contains 'ell'", { a: 'hello' }, true],
    ["a contains 'ell'", { a: 'help' }, false],
    ["a contains 'ell'", {}, false],
    ["a contains ''", { a: '' }, true],
    ["a contains ''", {}, false],

    ["a starts with 'he'", { a: 'hello' }, true],
    ["a starts with 'he'", { a: 'the' }, false],
    ["a starts with 'he'", {}, false],
    ["a starts with ''", {}, false],

    ["a ends with 'lo'", { a: 'hello' }, true],
    ["a ends with 'lo'", { a: 'lol' }, false],
    ["a ends with 'lo'", {}, false],
    ["a ends with ''", {}, false],

    ['all()', {}, true],
    ['all()', { a: 'x' }, true],
    ['', {}, true],
    [' \t ', { a: 'x' }, true],
    ['!all()', {}, false],

    // Label keys that collide with Object.prototype members must read as absent.
    ['has(constructor)', {}, false],
    ['has(__proto__)', {}, false],
    ["toString != 'x'", {}, true],
    ["hasOwnProperty == 'x'", {}, false],
  ];

  for (const [sel, labels, expected] of rows) {
    it(`${JSON.stringify(sel)} on ${JSON.stringify(labels)} is ${expected}`, () => {
      assert.equal(parseSelector(sel).evaluate(labels), expected);
      // The canonical form must mean the same thing.
      assert.equal(parseSelector(canonical(sel)).evaluate(labels), expected);
    });
  }
});

describe('selector precedence, parentheses and negation', () => {
  it('&& binds tighter than ||', () => {
    const sel = parseSelector("a == '1' || b == '1' && c == '1'");
    assert.equal(sel.toString(), '(a == "1" || (b == "1" && c == "1"))');
    assert.equal(sel.evaluate({ a: '1' }), true); // would be false as (a || b) && c
    assert.equal(sel.evaluate({ b: '1' }), false);
    assert.equal(sel.evaluate({ b: '1', c: '1' }), true);
  });

  it('parentheses override precedence', () => {
    const sel = parseSelector("(a == '1' || b == '1') && c == '1'");
    assert.equal(sel.toString(), '((a == "1" || b == "1") && c == "1")');
    assert.equal(sel.evaluate({ a: '1' }), false);
    assert.equal(sel.evaluate({ a: '1', c: '1' }), true);
  });

  it('! binds tighter than && and applies to the whole comparison', () => {
    const sel = parseSelector("!a == '1' && b == '1'");
    assert.equal(sel.toString(), '(!a == "1" && b == "1")');
    assert.equal(sel.evaluate({ b: '1' }), true);
    assert.equal(sel.evaluate({ a: '2', b: '1' }), true);
    assert.equal(sel.evaluate({ a: '1', b: '1' }), false);
    // `!a in {...}` negates the set test (Calico parser_test case).
    assert.equal(parseSelector('!a in {"a"}').evaluate({ a: 'b' }), true);
  });

  it('! before a parenthesised group negates the group', () => {
    const sel = parseSelector("!(a == '1' && b == '1')");
    assert.equal(sel.toString(), '!(a == "1" && b == "1")');
    assert.equal(sel.evaluate({ a: '1' }), true);
    assert.equal(sel.evaluate({ a: '1', b: '1' }), false);
    assert.equal(parseSelector('!(has(b) || !has(a))').evaluate({ a: 'a' }), true);
  });

  it('runs of ! collapse to their parity', () => {
    for (const [text, expected] of [
      ['!!has(a)', 'has(a)'],
      ['!!!has(a)', '!has(a)'],
      ['! ! has(a)', 'has(a)'],
      ['!! ! has(a)', '!has(a)'],
      ['!(!has(a))', 'has(a)'],
      ['!(!(a == "1" && b == "1"))', '(a == "1" && b == "1")'],
      ['!(!(!has(a)))', '!has(a)'],
    ]) {
      assert.equal(canonical(text), expected, text);
    }
    assert.equal(parseSelector('!(!has(a))').evaluate({ a: 'x' }), true);
    assert.equal(parseSelector('!!!has(a)').evaluate({ a: 'x' }), false);
  });

  it('redundant parentheses do not add structure', () => {
    assert.equal(canonical("((a == 'x'))"), 'a == "x"');
    assert.equal(canonical('( all() )'), 'all()');
    assert.equal(canonical("(a == 'x') && ((b == 'y'))"), '(a == "x" && b == "y")');
  });

  it('does not flatten explicitly grouped chains (Calico keeps the grouping)', () => {
    assert.equal(canonical("a == '1' && b == '2' && c == '3'"), '(a == "1" && b == "2" && c == "3")');
    assert.equal(canonical("(a == '1' && b == '2') && c == '3'"), '((a == "1" && b == "2") && c == "3")');
    assert.equal(canonical("a == '1' || b == '2' || c == '3'"), '(a == "1" || b == "2" || c == "3")');
  });
});

describe('selector global()', () => {
  it('matches everything when the caller does not say whether the resource is namespaced', () => {
    assert.equal(parseSelector('global()').evaluate({}), true);
    assert.equal(parseSelector('global()').evaluate({ 'projectcalico.org/namespace': 'x' }), true);
  });

  it('matches only non-namespaced resources when told', () => {
    const sel = parseSelector('global()');
    assert.equal(sel.evaluate({}, { namespaced: false }), true);
    assert.equal(sel.evaluate({}, { namespaced: true }), false);
    assert.equal(parseSelector('!global()').evaluate({}, { namespaced: true }), true);
    const mixed = parseSelector("global() || role == 'db'");
    assert.equal(mixed.evaluate({ role: 'db' }, { namespaced: true }), true);
    assert.equal(mixed.evaluate({ role: 'web' }, { namespaced: true }), false);
    assert.equal(mixed.evaluate({ role: 'web' }, { namespaced: false }), true);
  });

  it('has a canonical form and references no labels', () => {
    assert.equal(canonical(' global( ) '), 'global()');
    assert.equal(parseSelector('global()').labelKeys().size, 0);
  });
});

describe('selector label sources', () => {
  it('evaluates through a LabelLookup so inherited labels need no merged object', () => {
    const namespaceLabels: Labels = { 'projectcalico.org/namespace': 'prod', tier: 'gold' };
    const own: Labels = { app: 'web', tier: 'silver' };
    let reads = 0;
    const layered: LabelLookup = {
      get(key) {
        reads++;
        if (Object.hasOwn(own, key)) return own[key];
        return Object.hasOwn(namespaceLabels, key) ? namespaceLabels[key] : undefined;
      },
    };
    const sel = parseSelector("projectcalico.org/namespace == 'prod' && app == 'web' && tier == 'silver'");
    assert.equal(sel.evaluate(layered), true);
    assert.equal(reads, 3);
    assert.equal(parseSelector("tier == 'gold'").evaluate(layered), false);
    assert.equal(parseSelector('has(missing)').evaluate(layered), false);
  });

  it('accepts a Map as a LabelLookup', () => {
    const labels = new Map([['k8s-app', 'kube-dns']]);
    assert.equal(parseSelector("k8s-app == 'kube-dns'").evaluate(labels), true);
    assert.equal(parseSelector("k8s-app != 'kube-dns'").evaluate(labels), false);
  });

  it('treats a record with a string label named "get" as a record', () => {
    assert.equal(parseSelector("get == 'x'").evaluate({ get: 'x' }), true);
    assert.equal(parseSelector("get == 'x'").evaluate({ get: 'y' }), false);
  });
});

describe('selector labelKeys', () => {
  it('lists each referenced key once, in order of first mention', () => {
    const sel = parseSelector(
      "a == 'x' && (has(b) || !c in {'y'}) && a != 'z' && d contains 'q' && " + "e starts with 'r' && f ends with 's' && g not in {} && all() && global()",
    );
    assert.deepEqual([...sel.labelKeys()], ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('is empty for selectors that read no labels', () => {
    assert.equal(parseSelector('').labelKeys().size, 0);
    assert.equal(parseSelector('!all() || global()').labelKeys().size, 0);
  });

  it('returns a fresh set each call, so a caller cannot corrupt the selector', () => {
    const sel = parseSelector('has(a)');
    (sel.labelKeys() as Set<string>).add('intruder');
    assert.deepEqual([...sel.labelKeys()], ['a']);
  });
});

describe('selector immutability', () => {
  it('freezes the selector and every node of its tree', () => {
    const sel = parseSelector("!(a in {'x'} && b == 'y') || has(c)");
    assert.ok(Object.isFrozen(sel));
    const stack: unknown[] = [sel.root];
    let seen = 0;
    while (stack.length > 0) {
      const node = stack.pop() as Record<string, unknown>;
      seen++;
      assert.ok(Object.isFrozen(node), JSON.stringify(node));
      for (const value of Object.values(node)) {
        if (Array.isArray(value)) {
          assert.ok(Object.isFrozen(value));
          for (const item of value) if (typeof item === 'object') stack.push(item);
        } else if (typeof value === 'object' && value !== null) {
          stack.push(value);
        }
      }
    }
    assert.equal(seen, 6); // or, not, and, in, ==, has
  });

  it('rejects writes in strict mode', () => {
    const sel = parseSelector("a == 'x'");
    assert.throws(() => {
      (sel as unknown as { root: unknown }).root = null;
    }, TypeError);
    assert.throws(() => {
      (sel.root as unknown as { value: string }).value = 'y';
    }, TypeError);
    assert.equal(sel.evaluate({ a: 'x' }), true);
  });
});
