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
  const names = Array.from({ length: 50 }, (_, i) => `sig-write-${String(i).padStart(2, '0')}`);
  await writeFile(join(fx.dir, 'pools.yaml'), names.map((n, i) => pool(n, 100 + i)).join('---\n'));
  // etcd is frozen once the datastore is initialized (the command's first reads and writes,
  // which must not be held), so a write of the batch is sent and cannot be answered until the
  // test lets it. Which one depends on timing; the report must agree with etcd whichever it is.
  const child = CattailProcess.start(t, ['-l', 'debug', 'apply', '-f', 'pools.yaml'], { cwd: fx.dir, env: fx.env() });
  t.after(() => fx.etcd.kill('SIGCONT'));
  await child.waitForStderr(/"msg":"datastore initialized"/);
  fx.etcd.kill('SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, 300)); // the batch reaches the frozen etcd and waits
  child.kill('SIGTERM');
  await child.waitForStderr(/"msg":"interrupt received; stopping"/);
  fx.etcd.kill('SIGCONT');
  const r = await child.done;

  assert.equal(r.code, 143, r.stderr);
  assert.equal(r.stdout, '');
  const report = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  const applied = names.filter((_, i) => report[i] === `pools.yaml: document ${i + 1}: IPPool(${names[i]}): applied`);
  assert.ok(applied.length >= 1 && applied.length < names.length, `some but not all applied: ${applied.length}`);
  assert.deepEqual(report, [
    ...names.map((n, i) => `pools.yaml: document ${i + 1}: IPPool(${n}): ${i < applied.length ? 'applied' : 'not applied (interrupted)'}`),
    `interrupted by SIGTERM: ${applied.length} of ${names.length} resource(s) applied, ${names.length - applied.length} not applied`,
  ]);
  assert.equal((r.stderr.match(/"msg":"apply resource"/g) ?? []).length, applied.length, 'no write started after the signal');
  assert.deepEqual(await storedPools('sig-write-'), applied);
});
