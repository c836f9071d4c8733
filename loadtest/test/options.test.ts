import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunOptions, UsageError } from '../src/index.js';

test('defaults per scenario', () => {
  const o = parseRunOptions(['steady-fanout']);
  assert.deepEqual([o.vus, o.sockets, o.resources, o.rate, o.durationS, o.syncer], [2, 50, 35000, 50, 30, 'felix']);
  assert.equal(parseRunOptions(['connect-storm']).durationS, 5);
  assert.ok(Object.isFrozen(o));
});

test('flags, env pairs and typha settings', () => {
  const o = parseRunOptions([
    'slow-consumers',
    '--vus',
    '4',
    '--sockets',
    '1_000',
    '--slow',
    '7',
    '--slow-rate',
    '65536',
    '--env',
    'LATENCY_P99_MS=100',
    '--typha-env',
    'TYPHA_SERVERMAXFALLBEHINDSECS=10',
  ]);
  assert.deepEqual([o.vus, o.sockets, o.slow, o.slowRate], [4, 1000, 7, 65536]);
  assert.deepEqual(o.k6Env, { LATENCY_P99_MS: '100' });
  assert.deepEqual(o.typhaEnv, { TYPHA_SERVERMAXFALLBEHINDSECS: '10' });
});

test('usage errors name the flag', () => {
  assert.throws(() => parseRunOptions([]), UsageError);
  assert.throws(() => parseRunOptions(['warp-storm']), /expected one scenario/);
  assert.throws(() => parseRunOptions(['connect-storm', '--vus', '0']), /--vus must be an integer in 1\.\.1000, got "0"/);
  assert.throws(() => parseRunOptions(['connect-storm', '--url', 'http://x']), /--url must look like ws:/);
  assert.throws(() => parseRunOptions(['steady-fanout', '--url', 'ws://127.0.0.1:5473']), /--url needs --etcd/);
  assert.throws(() => parseRunOptions(['steady-fanout', '--rate', '0']), /--rate and --duration must be > 0/);
  assert.throws(() => parseRunOptions(['steady-fanout', '--syncer', 'bgp']), /the bgp syncer does not carry/);
  assert.equal(parseRunOptions(['connect-storm', '--syncer', 'bgp']).durationS, 0);
  assert.throws(() => parseRunOptions(['connect-storm', '--env', 'lower=1']), /--env expects KEY=VALUE/);
  assert.throws(() => parseRunOptions(['connect-storm', '--typha-env', 'FOO=1']), /--typha-env expects/);
});
