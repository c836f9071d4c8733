import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlServer, RunTimeoutError, type TickReport } from '../src/index.js';

function tick(vu: number, live: number, minRevision = 0): TickReport {
  return {
    vu,
    at: Date.now(),
    sockets: 5,
    open: 5,
    live,
    everInSync: live,
    minRevision,
    dropGen: 0,
    latN: 0,
    bins: {},
    inSyncMs: [],
    bytes: 0,
    errors: 0,
    done: false,
  };
}

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}/tick`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: await res.json() };
}

test('answers every tick with the current orders and resolves waiters on reports', async (t) => {
  const s = await ControlServer.start();
  t.after(() => s.close());
  const allLive = s.until(() => s.sum('live') >= 10, 5000, 'all live');
  s.control.drop = 1;
  const a = await post(s.url, tick(1, 5, 40));
  assert.deepEqual(a.json, { stop: false, drop: 1, lastRevision: 0, writes: 0, slowFromMs: 0 });
  await post(s.url, tick(2, 5, 30));
  await allLive;
  assert.equal(s.minRevision(), 30);
  assert.equal(s.reports, 2);
  const bad = await post(s.url, { hello: 1 });
  assert.equal(bad.status, 200);
  assert.equal(s.badReports, 1);
});

test('a waiter fails with the reason when the run is aborted, and on timeout', async (t) => {
  const s = await ControlServer.start();
  t.after(() => s.close());
  let why: string | undefined;
  const w = s.until(
    () => false,
    10_000,
    'every socket in sync',
    () => why,
  );
  why = 'k6 exited early';
  s.poke();
  await assert.rejects(w, (err: unknown) => err instanceof RunTimeoutError && /every socket in sync: k6 exited early/.test(err.message));
  await assert.rejects(
    s.until(() => false, 20, 'never'),
    /never: not within 0 s/,
  );
});
