import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SelectorSyntaxError, createCachedSelectorParser, parseSelector, parseSelectorCached } from '../src/selector/index.js';

describe('createCachedSelectorParser', () => {
  it('returns the same Selector object for repeated text', () => {
    const parse = createCachedSelectorParser(4);
    const first = parse("a == 'x'");
    assert.equal(parse("a == 'x'"), first);
    // Different spelling is a different cache key, even though the meaning is the same.
    const other = parse('a == "x"');
    assert.notEqual(other, first);
    assert.equal(other.toString(), first.toString());
  });

  it('evicts the least recently used entry when full', () => {
    const parse = createCachedSelectorParser(2);
    const a = parse('has(a)');
    const b = parse('has(b)');
    assert.equal(parse('has(a)'), a); // touch a: b is now the oldest
    const c = parse('has(c)'); // evicts b
    assert.equal(parse('has(a)'), a);
    const b2 = parse('has(b)');
    assert.notEqual(b2, b);
    assert.equal(b2.toString(), 'has(b)');
    // Re-adding b evicted c (a was touched more recently), so c is re-parsed too.
    const c2 = parse('has(c)');
    assert.notEqual(c2, c);
    assert.equal(parse('has(c)'), c2);
  });

  it('never holds more than its bound', () => {
    const parse = createCachedSelectorParser(3);
    const firsts = ['has(k0)', 'has(k1)', 'has(k2)', 'has(k3)', 'has(k4)'].map((t) => parse(t));
    // k0 and k1 were evicted; k2..k4 are still cached.
    assert.notEqual(parse('has(k0)'), firsts[0]);
    assert.equal(parse('has(k4)'), firsts[4]);
  });

  it('does not cache invalid text and throws every time', () => {
    const parse = createCachedSelectorParser(2);
    assert.throws(() => parse('a =='), SelectorSyntaxError);
    assert.throws(() => parse('a =='), SelectorSyntaxError);
  });

  it('rejects a non-positive or fractional bound', () => {
    assert.throws(() => createCachedSelectorParser(0), RangeError);
    assert.throws(() => createCachedSelectorParser(1.5), RangeError);
  });
});

describe('parseSelectorCached', () => {
  it('shares one selector per text and agrees with parseSelector', () => {
    const text = "projectcalico.org/namespace == 'kube-system' && k8s-app in {'kube-dns'}";
    const sel = parseSelectorCached(text);
    assert.equal(parseSelectorCached(text), sel);
    assert.equal(sel.toString(), parseSelector(text).toString());
    assert.equal(sel.evaluate({ 'projectcalico.org/namespace': 'kube-system', 'k8s-app': 'kube-dns' }), true);
  });
});
