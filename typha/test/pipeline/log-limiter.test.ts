import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogLimiter } from '../../src/pipeline/log-limiter.js';
import { fakeClock } from './helpers.js';

test('allows N lines per interval and counts the rest', () => {
  const clock = fakeClock();
  const l = createLogLimiter({ maxPerInterval: 2, intervalMs: 100, clock });
  assert.deepEqual([l.take(), l.take(), l.take(), l.take()], [0, 0, -1, -1]);
  clock.advance(99);
  assert.equal(l.take(), -1);
  clock.advance(1);
  assert.equal(l.take(), 3);
  assert.equal(l.take(), 0);
  assert.equal(l.take(), -1);
});
