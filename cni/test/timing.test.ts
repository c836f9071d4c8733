// The timing line's parts: marks in process time, and the datastore wrapper that counts each
// request while running it on the real object (its #private state intact).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Datastore } from '@cattail/datastore';
import { PhaseTimer, timerFromEnv } from '../src/timing.js';

class Store {
  #gets = 0;
  async get(): Promise<unknown> {
    this.#gets++;
    return { gets: this.#gets };
  }
  async commit(): Promise<unknown[]> {
    return [];
  }
  async close(): Promise<void> {
    // nothing open
  }
}

test('timerFromEnv: only CATTAIL_CNI_TIMING=1 turns it on', () => {
  assert.equal(timerFromEnv({}), undefined);
  assert.equal(timerFromEnv({ CATTAIL_CNI_TIMING: 'yes' }), undefined);
  assert.ok(timerFromEnv({ CATTAIL_CNI_TIMING: '1' }) instanceof PhaseTimer);
});

test('wrap counts requests by operation, not close; marks are increasing process times', async () => {
  const timer = new PhaseTimer();
  timer.mark('main');
  const ds = timer.wrap(new Store() as unknown as Datastore);
  assert.deepEqual(await ds.get({ kind: 'Node', name: 'a' }), { gets: 1 });
  assert.deepEqual(await ds.get({ kind: 'Node', name: 'b' }), { gets: 2 }, 'the real object, private state and all');
  await ds.commit!([]);
  await ds.close();
  timer.mark('closed');
  const r = timer.report();
  assert.equal(r.datastore.calls, 3);
  assert.deepEqual(r.datastore.byOp, { get: 2, commit: 1 });
  assert.ok(r.marks.main > 0 && r.marks.closed >= r.marks.main, JSON.stringify(r.marks));
});
