import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProbeTable, mapLimit, type ProbeResult } from '../src/index.js';

const r = (from: string, to: string, reachable: boolean): ProbeResult => ({ from, to, fromIp: '10.0.0.1', toIp: '10.0.0.2', reachable });

test('the probe table: a row per source, a column per destination, and a summary', () => {
  const text = formatProbeTable([r('a/x', 'b/y', true), r('b/y', 'a/x', false)]);
  assert.equal(text, ['FROM \\ TO  a/x  b/y', 'a/x        ·    ok', 'b/y        --   ·', '1/2 reachable, 1 blocked', ''].join('\n'));
  assert.match(formatProbeTable([r('a/x', 'b/y', true)]), /1\/1 reachable\n$/);
});

test('mapLimit keeps input order and never runs more than the limit at once', async () => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((res) => setImmediate(res));
    running--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(peak, 2);
  assert.deepEqual(await mapLimit([], 4, async (n: number) => n), []);
});
