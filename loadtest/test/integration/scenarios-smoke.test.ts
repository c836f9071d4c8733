// The other scenario scripts, tiny, so they do not rot either: a reconnect storm (every socket
// drops and resumes; one per VU reconnects without its token) and slow consumers (latencies
// tagged by phase), against one real etcd + Typha, with real k6 and thresholds on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildResult, findK6, parseRunOptions, runScenario, SystemUnderTest, wallMinusMonoMs, type LoadtestResult } from '../../src/index.js';

const LOOSE = ['--env', 'LATENCY_P99_MS=1000', '--env', 'IN_SYNC_P95_MS=20000', '--env', 'RESUME_IN_SYNC_P95_MS=20000'];

test('reconnect storm and slow consumers, tiny, thresholds on', { timeout: 110_000 }, async (t) => {
  const k6 = findK6();
  const dir = mkdtempSync(join(tmpdir(), 'cattail-k6-scenarios-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const base = parseRunOptions(['reconnect-storm', '--resources', '2000', '--slow', '3']);
  const sut = await SystemUnderTest.start(base, () => undefined);
  t.after(() => sut.close());

  async function run(argv: string[]): Promise<LoadtestResult> {
    const o = parseRunOptions([...argv, '--resources', '2000', '--in-sync-timeout', '30', ...LOOSE]);
    const r = await runScenario(o, sut, k6, join(dir, o.scenario), wallMinusMonoMs(), () => undefined);
    const res = buildResult(o, argv, sut.info, sut.typhaPid, r, k6);
    const failed = res.thresholds.filter((x) => !x.ok).map((x) => `${x.metric} ${x.expr}`);
    assert.deepEqual([res.errors, failed, res.k6ExitCode], [[], [], 0], `${o.scenario}; k6 output:\n${r.k6Exit.tail}`);
    return res;
  }

  const rs = await run(['reconnect-storm', '--vus', '2', '--sockets', '5', '--rate', '20', '--duration', '2', '--gap', '1', '--snapshot-fraction', '0.2']);
  assert.equal(rs.metrics.typha_resume_accepted.passes, 8, '4 resumes per VU');
  assert.equal(rs.metrics['typha_session_bytes{session:snapshot}'].count, 2, '1 snapshot reconnect per VU');
  assert.ok(rs.metrics['typha_session_bytes_ratio{session:resume}'].max < 0.5, 'a resume is a fraction of a snapshot');
  assert.ok(rs.runner.reconnectAllMs !== undefined);

  const sc = await run(['slow-consumers', '--vus', '1', '--sockets', '5', '--rate', '20', '--duration', '3', '--slow', '3']);
  assert.ok(sc.metrics['typha_stamped_updates{phase:baseline}'].count > 0);
  assert.ok(sc.metrics['typha_stamped_updates{phase:slow}'].count > 0);
  assert.equal(sc.slowConsumers?.count, 3);
  assert.ok(sc.slowVsBaseline !== undefined);
});
