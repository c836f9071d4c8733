// bench:cni's pure parts: the comma-list flags, the percentiles it prints, the ratios and the plugin's timing lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listArg, percentiles, phaseMedians, ratios, timingOf, type ModeResult } from '../src/cni.js';

test('listArg: every allowed word by default, a subset in order without repeats, an unknown word refused', () => {
  assert.deepEqual(listArg('plugin', undefined, ['node', 'sea']), ['node', 'sea']);
  assert.deepEqual(listArg('plugin', 'sea, node,sea', ['node', 'sea']), ['sea', 'node']);
  assert.throws(() => listArg('plugin', 'node,go', ['node', 'sea']), /--plugin must be a comma list of node, sea, got "node,go"/);
});

test('percentiles: none is NaN; p50 and p99 of the samples, to 0.1 ms', () => {
  assert.deepEqual(percentiles([]), { p50: NaN, p99: NaN, count: 0 });
  const p = percentiles(Array.from({ length: 100 }, (_, i) => i + 1.04));
  assert.equal(p.count, 100);
  assert.ok(p.p50 >= 50 && p.p50 <= 51.1, String(p.p50));
  assert.ok(p.p99 >= 99 && p.p99 <= 100.1, String(p.p99));
});

test('ratios: candidate over baseline, to 0.01', () => {
  const mode = (add: number, del: number): ModeResult => ({
    addMs: { p50: add, p99: add * 2, count: 1 },
    delMs: { p50: del, p99: del * 2, count: 1 },
    failures: 0,
    truncated: false,
  });
  assert.deepEqual(ratios(mode(300, 100), mode(900, 400)), { addP50: 0.33, addP99: 0.33, delP50: 0.25, delP99: 0.25 });
});

test('timingOf finds the plugin timing line among the log lines; phaseMedians turns marks into per-phase medians', () => {
  const line = (marks: Record<string, number>, calls: number) => JSON.stringify({ level: 30, msg: 'timing', marks, datastore: { calls, ms: 1, byOp: {} } });
  const stderr = `{"level":40,"msg":"something else"}\nnot json "timing"\n${line({ main: 30, config: 31, datastore: 40, ipam: 70, closed: 90 }, 5)}\n`;
  const t = timingOf(stderr);
  assert.deepEqual(t?.marks, { main: 30, config: 31, datastore: 40, ipam: 70, closed: 90 });
  assert.equal(timingOf('{"level":30,"msg":"addresses assigned"}\n'), undefined);
  // DEL marks endpoint before wiring and ipam: phases follow the marks' own order in time.
  const del = phaseMedians([
    { marks: { main: 10, datastore: 20, endpoint: 25, wiring: 40, ipam: 45, closed: 46 }, datastore: { calls: 5 } },
    { marks: { main: 30, datastore: 40, endpoint: 47, wiring: 60, ipam: 67, closed: 68 }, datastore: { calls: 7 } },
    { marks: { main: 20, datastore: 30, endpoint: 36, wiring: 50, ipam: 56, closed: 57 }, datastore: { calls: 6 } },
  ]);
  assert.deepEqual(del, { main: 20, datastore: 10, endpoint: 6, wiring: 14, ipam: 6, closed: 1, total: 57, calls: 6 });
});
