// The CAS retry loop: retries only races, bounded, with injected (not real) pauses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCasRetry, DEFAULT_RETRY } from '../../src/ipam/retry.js';
import { IpamContentionError } from '../../src/ipam/errors.js';
import { ConflictError, AlreadyExistsError, UnavailableError } from '../../src/errors.js';

const ref = { kind: 'IPAMBlock', name: '10-0-0-0-26' };

test('a lost race is retried after a jittered pause; success returns the value', async () => {
  const pauses: number[] = [];
  const policy = { ...DEFAULT_RETRY, random: () => 0.5, delay: async (ms: number) => void pauses.push(ms) };
  let n = 0;
  const v = await withCasRetry(policy, 'x', async () => {
    n++;
    if (n === 1) throw new ConflictError(ref, '1', '2');
    if (n === 2) throw new AlreadyExistsError(ref);
    return 'ok';
  });
  assert.equal(v, 'ok');
  assert.deepEqual(pauses, [1, 2]);
});

test('other errors pass through at once; the budget ends in IpamContentionError', async () => {
  const policy = { ...DEFAULT_RETRY, maxAttempts: 3, delay: async () => undefined };
  let n = 0;
  await assert.rejects(
    withCasRetry(policy, 'x', async () => {
      n++;
      throw new UnavailableError('down');
    }),
    UnavailableError,
  );
  assert.equal(n, 1);
  n = 0;
  await assert.rejects(
    withCasRetry(policy, 'block 10.0.0.0/26', async () => {
      n++;
      throw new ConflictError(ref, '1', '2');
    }),
    (err: unknown) => err instanceof IpamContentionError && err.code === 'IPAM_CONTENTION' && /after 3 attempts/.test(err.message),
  );
  assert.equal(n, 3);
});
