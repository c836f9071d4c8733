import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lagVerdict, type LagInput } from '../../src/server/lag-policy.js';

const base: LagInput = { now: 100_000, behindSince: -1, graceEndsAt: 0, revisionsBehind: 0, maxLagMs: 5000, maxLagRevisions: 0 };

test('a current client, or one behind less than the limits, is never cut', () => {
  assert.equal(lagVerdict(base), 'ok');
  assert.equal(lagVerdict({ ...base, behindSince: 95_000 }), 'ok', 'exactly maxLagMs is not past it');
  assert.equal(lagVerdict({ ...base, behindSince: 99_000, revisionsBehind: 10, maxLagRevisions: 10 }), 'ok');
});

test('past maxLagMs or maxLagRevisions: cut once the grace is over, excused before', () => {
  assert.equal(lagVerdict({ ...base, behindSince: 94_999 }), 'cut');
  assert.equal(lagVerdict({ ...base, behindSince: 99_000, revisionsBehind: 11, maxLagRevisions: 10 }), 'cut');
  assert.equal(lagVerdict({ ...base, behindSince: 94_999, graceEndsAt: 100_001 }), 'grace');
  assert.equal(lagVerdict({ ...base, behindSince: 94_999, graceEndsAt: 100_000 }), 'cut', 'the grace ends at graceEndsAt');
  assert.equal(lagVerdict({ ...base, behindSince: 0, graceEndsAt: Infinity }), 'grace', 'through the initial sync the grace has no end yet');
});
