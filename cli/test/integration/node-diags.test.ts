/**
 * `cattail node diags` on a host of its own: a network namespace this file creates (an address,
 * a route, an nftables table) with a real BIRD whose control socket is in a temp directory, and
 * a log directory. The bundle holds each of them; with BIRD stopped the bundle is still made and
 * says what it could not collect. BIRD is our child, ended by its own handle.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { until } from '@cattail/datastore/testing';
import { createNetns, deleteNetns, requireNetnsTools, run, uniquePrefix } from '@cattail/felix/testing';
import { birdCommand } from '../../src/bird-status.js';

const CLI = new URL('../../../bin/cattail.js', import.meta.url).pathname;
const ns = uniquePrefix('cdg');
let dir = '';
let bird: ChildProcess | undefined;

function diags(outDir: string, logDir = join(dir, 'logs')): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [
    'netns',
    'exec',
    ns,
    process.execPath,
    CLI,
    'node',
    'diags',
    `--log-dir=${logDir}`,
    `--bird-socket=${join(dir, 'bird.ctl')}`,
    `--output-dir=${outDir}`,
  ];
  return new Promise((resolve) => {
    execFile('ip', args, { timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function unpack(stdout: string): Promise<string> {
  const tarball = /Diags saved to (\S+\.tar\.gz)/.exec(stdout)?.[1];
  assert.ok(tarball, stdout);
  const to = await mkdtemp(join(dir, 'unpacked-'));
  await run('tar', ['-xzf', tarball, '-C', to]);
  const [top] = await readdir(to);
  assert.match(top, /^diags-\d{8}_\d{6}$/);
  return join(to, top);
}

before(async () => {
  await requireNetnsTools();
  dir = await mkdtemp(join(tmpdir(), 'cattail-diags-test-'));
  await createNetns(ns);
  // This kernel has no dummy links: a veth pair, both ends in the namespace.
  await run('ip', ['-n', ns, 'link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'uplink1']);
  await run('ip', ['-n', ns, 'addr', 'add', '10.123.0.2/24', 'dev', 'uplink0']);
  await run('ip', ['-n', ns, 'link', 'set', 'uplink0', 'up']);
  await run('ip', ['-n', ns, 'link', 'set', 'uplink1', 'up']);
  await run('ip', ['-n', ns, 'route', 'add', '10.124.0.0/16', 'via', '10.123.0.1']);
  await run('ip', ['netns', 'exec', ns, 'nft', 'add', 'table', 'inet', 'diagstest']);
  await mkdir(join(dir, 'logs'));
  await writeFile(join(dir, 'logs', 'felix.log'), 'felix started\n');
  await writeFile(join(dir, 'bird.conf'), 'router id 10.123.0.2;\nprotocol device { }\nprotocol static statics { ipv4; route 10.125.0.0/16 blackhole; }\n');
  bird = spawn('ip', ['netns', 'exec', ns, 'bird', '-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl')], { stdio: 'ignore' });
  await until(
    () =>
      birdCommand(join(dir, 'bird.ctl'), 'show status').then(
        () => true,
        () => false,
      ),
    'BIRD answering on its socket',
    20_000,
  );
});

after(async () => {
  if (bird && bird.exitCode === null) {
    bird.kill('SIGTERM');
    await new Promise((r) => bird!.once('exit', r));
  }
  await deleteNetns(ns);
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("the bundle holds the host's routes, addresses, ruleset, BIRD's state and the logs", async () => {
  const out = await diags(join(dir, 'out'));
  assert.equal(out.code, 0, out.stderr);
  assert.ok(out.stdout.includes(join(dir, 'out')), out.stdout);
  const b = await unpack(out.stdout);
  const read = (f: string) => readFile(join(b, f), 'utf8');
  assert.match(await read('ip-route.txt'), /10\.124\.0\.0\/16 via 10\.123\.0\.1 dev uplink0/);
  assert.match(await read('ip-addr.txt'), /inet 10\.123\.0\.2\/24/);
  assert.match(await read('nft-ruleset.txt'), /table inet diagstest/);
  assert.match(await read('bird-status.txt'), /Router ID is 10\.123\.0\.2/);
  assert.match(await read('bird-protocols.txt'), /statics\s+Static/);
  assert.match(await read('bird-routes.txt'), /10\.125\.0\.0\/16\s+blackhole/);
  assert.equal(await read('logs/felix.log'), 'felix started\n');
  const manifest = await read('manifest.txt');
  for (const f of ['ip-route.txt', 'nft-ruleset.txt', 'bird-routes.txt']) assert.match(manifest, new RegExp(`^${f.replace('.', '\\.')}: ok$`, 'm'));
  assert.match(manifest, /^logs\/: ok \(1 entries\)$/m);
});

test('with BIRD stopped the bundle is still made, and says what it could not collect', async () => {
  bird!.kill('SIGTERM');
  await new Promise((r) => bird!.once('exit', r));
  const out = await diags(join(dir, 'out2'), join(dir, 'no-such-logs'));
  assert.equal(out.code, 0, out.stderr);
  const b = await unpack(out.stdout);
  const manifest = await readFile(join(b, 'manifest.txt'), 'utf8');
  assert.match(manifest, /^bird-status\.txt: not collected: /m);
  assert.match(manifest, /^logs\/: no log directory /m);
  assert.match(manifest, /^ip-route\.txt: ok$/m);
  assert.match(await readFile(join(b, 'bird-protocols.txt'), 'utf8'), /^not collected: /);
});
