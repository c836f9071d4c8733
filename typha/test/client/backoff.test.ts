import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, jittered } from '@cattail/datastore/backoff';
import { DEFAULT_BACKOFF } from '../../src/client/index.js';

describe('backoffDelay', () => {
  const policy = { delaysMs: [0, 250, 500, 1000, 2000, 5000], jitter: 0.5, maxMs: 6000 };

  it('walks the policy, repeating the last entry', () => {
    const mid = () => 0.5; // factor exactly 1
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(policy, n, mid)),
      [0, 250, 500, 1000, 2000, 5000, 5000, 5000],
    );
    assert.equal(backoffDelay(policy, -3, mid), 0);
  });

  it('scales by a jitter factor in [1 - j, 1 + j] from the injected random', () => {
    assert.equal(
      backoffDelay(policy, 3, () => 0),
      500,
    );
    assert.equal(
      backoffDelay(policy, 3, () => 0.25),
      750,
    );
    assert.equal(
      backoffDelay(policy, 3, () => 0.999),
      1499,
    );
  });

  it('caps at maxMs, jitter included', () => {
    assert.equal(
      backoffDelay(policy, 5, () => 0.999),
      6000,
    );
    assert.equal(
      backoffDelay(policy, 5, () => 0),
      2500,
    );
  });

  it('spreads a fleet: different randoms give different delays', () => {
    const delays = new Set([0.1, 0.3, 0.5, 0.7, 0.9].map((r) => backoffDelay(policy, 4, () => r)));
    assert.equal(delays.size, 5);
  });

  it('clamps a jitter fraction outside 0..1 and never goes negative', () => {
    assert.equal(
      jittered(1000, 3, () => 0),
      0,
    );
    assert.equal(
      jittered(1000, -1, () => 0.9),
      1000,
    );
  });

  it('has the documented default', () => {
    assert.deepEqual(DEFAULT_BACKOFF.delaysMs, [0, 250, 500, 1000, 2000, 5000]);
    assert.ok(Object.isFrozen(DEFAULT_BACKOFF));
  });
});
