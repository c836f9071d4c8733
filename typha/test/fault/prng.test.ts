// The fault test's PRNG: same seed, same stream; forks are independent and stable; helpers
// stay in range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, mulberry32 } from './prng.js';

test('a seed gives the same stream, another seed another', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const c = mulberry32(43);
  const xs = Array.from({ length: 20 }, () => a());
  assert.deepEqual(
    Array.from({ length: 20 }, () => b()),
    xs,
  );
  assert.notDeepEqual(
    Array.from({ length: 20 }, () => c()),
    xs,
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

test('forks depend on seed and label only, not on draws made before', () => {
  const r1 = createRng(7);
  const r2 = createRng(7);
  r2.next();
  r2.next();
  assert.deepEqual([r1.fork('writer').next(), r1.fork('writer').next()], [r2.fork('writer').next(), r2.fork('writer').next()]);
  assert.notEqual(r1.fork('writer').next(), r1.fork('plan').next());
});

test('int, range, pick and weighted stay within their bounds', () => {
  const r = createRng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const n = r.int(5);
    assert.ok(Number.isInteger(n) && n >= 0 && n < 5);
    seen.add(n);
    const m = r.range(3, 6);
    assert.ok(m >= 3 && m <= 6);
    assert.notEqual(
      r.weighted([
        ['never', 0],
        ['a', 1],
        ['b', 3],
      ] as const),
      'never',
    );
  }
  assert.equal(seen.size, 5);
  assert.throws(() => r.pick([]));
  assert.throws(() => r.weighted([['x', 0]] as const));
});
