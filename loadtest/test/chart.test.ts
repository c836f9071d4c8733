import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineChart, renderChart, type LoadtestResult } from '../src/index.js';

test('lineChart draws one path per series and breaks lines at gaps', () => {
  const svg = lineChart(
    't',
    'ms',
    [0, 1, 2, 3],
    [
      { name: 'p50', color: '#111', values: [1, 2, undefined, 4] },
      { name: 'p99', color: '#222', values: [5, 6, 7, 8] },
    ],
  );
  assert.equal(svg.match(/<path /g)?.length, 2);
  assert.match(svg, /d="M[^"]*L[^"]*M/); // the gap starts a new subpath
});

test('renderChart makes a self-contained page with the thresholds', () => {
  const r = {
    scenario: 'steady-fanout',
    command: 'npm run loadtest -- steady-fanout',
    startedAt: '2026-12-01T00:00:00Z',
    passed: false,
    params: { vus: 2, socketsPerVu: 10, resources: 2000, syncer: 'felix' },
    machine: { nproc: 2, cpu: 'cpu', memGiB: 1, node: 'v20', kernel: 'k', maxOpenFiles: 1 },
    k6: { peakRssMB: 60 },
    thresholds: [{ metric: 'typha_delta_latency_ms', expr: 'p(99)<250', ok: false }],
    errors: ['boom <b>'],
    timeline: [
      { t: 0, open: 20, live: 20, latN: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, inSyncN: 20, mbIn: 1, extra: { typhaConnections: 20 } },
      { t: 1, open: 20, live: 20, latN: 400, p50: 18, p90: 25, p99: 40, max: 41, inSyncN: 0, mbIn: 0.2, extra: {} },
    ],
  } as unknown as LoadtestResult;
  const html = renderChart(r);
  assert.match(html, /^<!doctype html>/);
  assert.equal(html.match(/<svg /g)?.length, 3);
  assert.match(html, /Typha: connections/);
  assert.match(html, /✗<\/b><\/td><td><code>typha_delta_latency_ms/);
  assert.match(html, /boom &lt;b&gt;/);
  assert.doesNotMatch(html, /<script|src=|href=/);
});
