/**
 * SIGINT/SIGTERM sent to the real binary at points the test chooses, against a real etcd. The
 * child says where it is with `-l debug` log lines on stderr; the test waits for those, never for
 * time. Whatever the point, the exit code is the signal's (130, 143) and etcd holds exactly what
 * the CLI reports as written.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CattailProcess } from './cattail-process.js';
import { cliEtcdFixture } from './etcd-fixture.js';

const fx = cliEtcdFixture();

function pool(name: string, octet: number, padding = ''): string {
  return `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\n${padding}spec:\n  cidr: 10.${octet}.0.0/16\n`;
}

async function storedPools(prefix: string): Promise<string[]> {
  const keys = (await fx.etcd.etcdctl('get', '/calico/resources/v3/projectcalico.org/ippools/', '--prefix', '--keys-only')).split('\n');
  return keys
    .map((k) => k.slice(k.lastIndexOf('/') + 1))
    .filter((name) => name.startsWith(prefix))
    .sort();
}

test('SIGINT while apply waits on stdin: exit 130, nothing written', { timeout: 60_000 }, async (t) => {
  const before = await fx.revision();
  const child = CattailProcess.start(t, ['-l', 'debug', 'apply', '-f', '-'], { cwd: fx.dir, env: fx.env() });
  await child.waitForStderr(/"msg":"reading manifests"/);
  child.stdin.write(pool('sig-stdin', 80)); // a whole resource, and the stream still open
  child.kill('SIGINT');
  const r = await child.done;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /\ninterrupted by SIGINT: nothing was written\n$/);
  assert.equal(r.stdout, '');
  assert.equal(await fx.revision(), before);
});

test('SIGTERM while the manifests are parsed: exit 143 at once, nothing written', { timeout: 120_000 }, async (t) => {
  // 30,000 documents in three files of about 3 MB: seconds to parse on any machine, so the
  // signal lands in the middle of it.
  const manifests = join(fx.dir, 'many');
  await mkdir(manifests);
  const padding = `  labels:\n${Array.from({ length: 6 }, (_, i) => `    label-${i}: some-value-${i}\n`).join('')}`;
  for (const f of [0, 1, 2]) {
    const docs = Array.from({ length: 10_000 }, (_, i) => pool(`sig-parse-${f}-${i}`, 81, padding)).join('---\n');
    await writeFile(join(manifests, `m${f}.yaml`), docs);
  }
  const before = await fx.revision();
  const child = CattailProcess.start(t, ['-l', 'debug', 'apply', '-f', 'many'], { cwd: fx.dir, env: fx.env() });
  await child.waitForStderr(/"msg":"parsing manifests"/);
  const signalled = Date.now();
  child.kill('SIGTERM');
  const r = await child.done;
  assert.equal(r.code, 143, r.stderr);
  assert.match(r.stderr, /\ninterrupted by SIGTERM: nothing was written\n$/);
  assert.doesNotMatch(r.stderr, /"msg":"manifests loaded"/, 'the signal cut the parse short');
  assert.ok(Date.now() - signalled < 5_000, `exited ${Date.now() - signalled} ms after the signal`);
  assert.equal(await fx.revision(), before);
});

test('SIGTERM during the writes: the write in flight completes, no other starts, and the report matches etcd', { timeout: 60_000 }, async (t) => {
  const names = Array.from({ length: 5 }, (_, i) => `sig-write-${i}`);
  await writeFile(join(fx.dir, 'pools.yaml'), names.map((n, i) => pool(n, 90 + i)).join('---\n'));
  // etcd frozen: the first write is sent and cannot be answered until the test lets it.
  fx.etcd.kill('SIGSTOP');
  t.after(() => fx.etcd.kill('SIGCONT'));
  const child = CattailProcess.start(t, ['-l', 'debug', 'apply', '-f', 'pools.yaml'], { cwd: fx.dir, env: fx.env() });
  await child.waitForStderr(/"msg":"apply resource"/);
  child.kill('SIGTERM');
  await child.waitForStderr(/"msg":"interrupt received; stopping"/);
  fx.etcd.kill('SIGCONT');
  const r = await child.done;

  assert.equal(r.code, 143, r.stderr);
  assert.equal(r.stdout, '');
  const report = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  assert.deepEqual(report, [
    'pools.yaml: document 1: IPPool(sig-write-0): applied',
    'pools.yaml: document 2: IPPool(sig-write-1): not applied (interrupted)',
    'pools.yaml: document 3: IPPool(sig-write-2): not applied (interrupted)',
    'pools.yaml: document 4: IPPool(sig-write-3): not applied (interrupted)',
    'pools.yaml: document 5: IPPool(sig-write-4): not applied (interrupted)',
    'interrupted by SIGTERM: 1 of 5 resource(s) applied, 4 not applied',
  ]);
  assert.equal((r.stderr.match(/"msg":"apply resource"/g) ?? []).length, 1, 'no write started after the signal');
  assert.deepEqual(await storedPools('sig-write-'), ['sig-write-0']);
});
