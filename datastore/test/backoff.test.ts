import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, realDelay } from '../src/backoff.js';
import { DEFAULT_BACKOFF } from '../src/etcd/options.js';

const policy = { delaysMs: [100, 200, 400], jitter: 0.5 };

test('backoffDelay walks the policy and repeats its last entry', () => {
  const mid = (): number => 0.5; // factor exactly 1
  assert.deepEqual(
    [0, 1, 2, 3, 10].map((a) => backoffDelay(policy, a, mid)),
    [100, 200, 400, 400, 400],
  );
});

test('backoffDelay jitter stays within [1 - jitter, 1 + jitter] of the base', () => {
  assert.equal(
    backoffDelay(policy, 1, () => 0),
    100,
  );
  assert.equal(
    backoffDelay(policy, 1, () => 0.999999),
    300,
  );
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelay(DEFAULT_BACKOFF, i % 10);
    const base = DEFAULT_BACKOFF.delaysMs[Math.min(i % 10, DEFAULT_BACKOFF.delaysMs.length - 1)];
    assert.ok(d >= base * (1 - DEFAULT_BACKOFF.jitter) && d <= base * (1 + DEFAULT_BACKOFF.jitter), `${d} vs ${base}`);
  }
});

test('backoffDelay without jitter is the base; negative attempts count as 0; empty policy is 0', () => {
  assert.equal(
    backoffDelay({ delaysMs: [70], jitter: 0 }, 5, () => 0.9),
    70,
  );
  assert.equal(
    backoffDelay(policy, -3, () => 0.5),
    100,
  );
  assert.equal(backoffDelay({ delaysMs: [], jitter: 0.5 }, 2), 0);
});

test('realDelay returns early when aborted', async () => {
  const ac = new AbortController();
  const started = Date.now();
  const p = realDelay(60_000, ac.signal);
  ac.abort();
  await p;
  assert.ok(Date.now() - started < 5000);
  const already = new AbortController();
  already.abort();
  await realDelay(60_000, already.signal);
});
