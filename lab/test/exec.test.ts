import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabCommandError, LabTimeoutError, run, until } from '../src/index.js';

test('a failed command says how it ended and what it printed', async () => {
  await assert.rejects(
    run('sh', ['-c', 'echo broken >&2; exit 3']),
    (err: Error) => err instanceof LabCommandError && /exit code 3: broken$/.test(err.message),
  );
  await assert.rejects(run('sleep', ['5'], { timeoutMs: 100 }), (err: Error) => /killed \(SIGTERM\) after the 100 ms limit/.test(err.message));
  assert.equal(await run('sh', ['-c', 'cat'], { input: 'hello' }), 'hello');
});

test('until returns the first value that holds, or names what it last saw', async () => {
  let n = 0;
  assert.equal(await until(() => (++n >= 3 ? `done at ${n}` : undefined), 'three tries', 5_000, undefined, 1), 'done at 3');
  await assert.rejects(
    until(
      () => false,
      'the impossible',
      30,
      () => 'still false',
      5,
    ),
    (err: Error) => err instanceof LabTimeoutError && /waiting for the impossible; last seen: still false/.test(err.message),
  );
});
