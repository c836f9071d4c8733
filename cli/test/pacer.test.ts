import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InterruptedError } from '../src/errors.js';
import { Pacer } from '../src/pacer.js';

test('due() reads the clock every 256 calls and is true once the slice is used', () => {
  let now = 0;
  let reads = 0;
  const pacer = new Pacer(undefined, {
    sliceMs: 10,
    now: () => {
      reads++;
      return now;
    },
  });
  const calls = (n: number): boolean[] => Array.from({ length: n }, () => pacer.due());
  now = 5;
  assert.ok(
    calls(1000).every((d) => !d),
    'within the slice',
  );
  now = 10;
  const after = calls(256);
  assert.equal(after.filter(Boolean).length, 1, 'true at the first clock read past the slice');
  assert.equal(reads, 1 + Math.floor(1256 / 256), 'one read at start, then one per 256 calls');
});

test("pause() lets the event loop run, then throws the signal's InterruptedError", async () => {
  const controller = new AbortController();
  const pacer = new Pacer(controller.signal);
  await pacer.pause(); // nothing pending: returns
  setImmediate(() => controller.abort('SIGINT'));
  await assert.rejects(pacer.pause(), (err: unknown) => err instanceof InterruptedError && err.exitCode === 130 && err.message === 'interrupted by SIGINT');
  assert.throws(() => pacer.check(), InterruptedError);
});
