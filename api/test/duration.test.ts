import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationMillis } from '../src/index.js';

test('durationMillis reads Go durations as Calico stores them, and refuses what Go would', () => {
  assert.equal(durationMillis('15m0s'), 900_000);
  assert.equal(durationMillis('1m30s'), 90_000);
  assert.equal(durationMillis('1.5s'), 1_500);
  assert.equal(durationMillis('250ms'), 250);
  assert.equal(durationMillis('0'), 0);
  assert.equal(durationMillis('15'), undefined);
  assert.equal(durationMillis('-1s'), undefined);
  assert.equal(durationMillis('soon'), undefined);
});
