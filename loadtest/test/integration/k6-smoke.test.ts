// CI smoke of the k6 load tests, so the scripts never rot: a connect storm of 20 sockets
// (2 VUs × 10) with a short churn, against a real etcd, a real Typha and real k6, thresholds on.
// Then the same with a latency threshold nobody can meet, which must make k6 exit non-zero: the
// thresholds are what fails a regression, so the test checks that they can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterMix } from '@cattail/bench';
import { buildResult, findK6, parseRunOptions, runScenario, SystemUnderTest, wallMinusMonoMs } from '../../src/index.js';

test('k6 smoke: connect storm, 20 sockets, 4 s churn, real etcd + Typha + k6', { timeout: 110_000 }, async (t) => {
  const k6 = findK6(); // K6MissingError says how to install it
  const dir = mkdtempSync(join(tmpdir(), 'cattail-k6-smoke-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Limits loose enough for a shared CI machine (the load average here reaches 40 while other
  // suites run), tight enough to catch a broken clock or a stalled stream.
  const limits = ['--env', 'LATENCY_P99_MS=1000', '--env', 'IN_SYNC_P95_MS=20000'];
  const argv = [
    'connect-storm',
    '--vus',
    '2',
    '--sockets',
    '10',
    '--resources',
    '2000',
    '--rate',
    '20',
    '--duration',
    '4',
    '--in-sync-timeout',
    '30',
    ...limits,
  ];
  const o = parseRunOptions(argv);
  const sut = await SystemUnderTest.start(o, () => undefined);
  t.after(() => sut.close());

  const run = await runScenario(o, sut, k6, join(dir, 'pass'), wallMinusMonoMs(), () => undefined);
  const r = buildResult(o, argv, sut.info, sut.typhaPid, run, k6);
  const failed = r.thresholds.filter((x) => !x.ok).map((x) => `${x.metric} ${x.expr}`);
  assert.deepEqual(r.errors, [], 'runner errors');
  assert.deepEqual(failed, [], 'failed thresholds');
  assert.equal(r.k6ExitCode, 0, `k6 exit code; its output:\n${run.k6Exit.tail}`);
  assert.ok(r.thresholds.length >= 8, `thresholds declared: ${r.thresholds.length}`);

  // Every socket in sync, each with the whole felix projection (every key but BlockAffinity).
  assert.equal(r.metrics.typha_in_sync.passes, 20);
  assert.equal(r.metrics.typha_in_sync.fails, 0);
  const felixKeys = o.resources - clusterMix(o.resources).blockAffinities;
  assert.equal(r.metrics.typha_snapshot_keys.min, felixKeys);
  assert.equal(r.metrics.typha_snapshot_keys.max, felixKeys);
  // Every write reached every socket (a batch may coalesce two writes to one endpoint, rarely).
  const churned = run.churn?.writes ?? 0;
  assert.ok(churned >= 60, `writes: ${churned}`);
  const stamped = r.metrics.typha_stamped_updates.count;
  assert.ok(stamped <= churned * 20 && stamped >= churned * 20 * 0.95, `stamped updates ${stamped} for ${churned} writes × 20 sockets`);
  // The latency is write → receipt on one host clock: never negative, never below etcd's commit.
  assert.ok(r.metrics.typha_delta_latency_ms.min > 0, `min latency ${r.metrics.typha_delta_latency_ms.min}`);
  assert.equal(
    r.timeline.reduce((n, p) => n + p.latN, 0),
    stamped,
    'timeline samples = k6 samples',
  );

  const strict = [...argv, '--env', 'LATENCY_P99_MS=0.01', '--duration', '2']; // the later --env wins
  const o2 = parseRunOptions(strict);
  const run2 = await runScenario(o2, sut, k6, join(dir, 'fail'), wallMinusMonoMs(), () => undefined);
  const r2 = buildResult(o2, strict, sut.info, sut.typhaPid, run2, k6);
  assert.equal(r2.k6ExitCode, 99, `k6 must fail the run on a crossed threshold; its output:\n${run2.k6Exit.tail}`);
  assert.deepEqual(
    r2.thresholds.filter((x) => !x.ok).map((x) => `${x.metric} ${x.expr}`),
    ['typha_delta_latency_ms p(99)<0.01'],
    'only the impossible threshold fails',
  );
  assert.equal(r2.passed, false);
});
