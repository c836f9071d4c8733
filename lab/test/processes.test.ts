import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@cattail/datastore/testing';
import { findLabProcesses, isAlive, isOurs, spawnDetached, stopProcess } from '../src/index.js';

test('a detached process is recognised by its markers and start time, and only then signalled', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctlab-proc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = `ctlab-u${process.pid}`;
  const rec = spawnDetached(prefix, { role: 'sleeper', argv: ['sleep', '30'], env: process.env, log: join(dir, 'sleep.log') });
  t.after(() => stopProcess(prefix, rec, { signal: 'SIGKILL' }));
  // Alive from the first moment (pid and start time); the markers show once it has exec'd.
  assert.ok(isAlive(rec));
  assert.equal(isAlive({ ...rec, startTime: rec.startTime + 1 }), false);
  await until(() => isOurs(prefix, rec), 'the sleeper to exec', 5_000, 20);
  assert.ok(isOurs(prefix, rec));
  assert.equal(isOurs('ctlab-other', rec), false, 'another lab prefix');
  assert.equal(isOurs(prefix, { ...rec, role: 'felix/node-1' }), false, 'another role');
  assert.equal(isOurs(prefix, { ...rec, startTime: rec.startTime + 1 }), false, 'a reused pid (other start time)');
  assert.equal(await stopProcess('ctlab-other', rec), false, 'nothing sent to a process that is not ours');
  assert.ok(isOurs(prefix, rec));
  assert.deepEqual(
    findLabProcesses(prefix).map((p) => [p.pid, p.role]),
    [[rec.pid, 'sleeper']],
  );
  assert.equal(await stopProcess(prefix, rec, { graceMs: 2_000 }), true);
  assert.equal(isOurs(prefix, rec), false);
  assert.equal(isAlive(rec), false);
  assert.deepEqual(findLabProcesses(prefix), []);
});
