// `cattail node monitor-addresses` as a process on real etcd, watching real interfaces in a
// network namespace this file creates (CATTAIL_NETNS): the host's address re-assigned while it
// runs moves the Node's BGP address with it (IP=autodetect); a fixed IP keeps the Node's address
// whatever the interfaces do; a new address another Node holds clears this Node's address and
// ends the monitor with the conflict (exit 1), as calico/node's monitor does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_VERSION } from '@cattail/api';
import { sharedEtcd, until } from '@cattail/datastore/testing';
import { createNetns, deleteNetns, requireNetnsTools, run, uniquePrefix } from '@cattail/felix/testing';

const CLI = new URL('../../../../cli/bin/cattail.js', import.meta.url).pathname;
const fx = sharedEtcd();
const ns = uniquePrefix('cam');
const procs = new Set<ChildProcess>();
let varLib: string;

interface Monitor {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startMonitor(node: string, env: Record<string, string>): Monitor {
  const proc = spawn(process.execPath, [CLI, 'node', 'monitor-addresses'], {
    env: {
      PATH: process.env.PATH,
      NODENAME: node,
      CATTAIL_NETNS: ns,
      CATTAIL_VAR_LIB_DIR: join(varLib, node),
      ETCD_ENDPOINTS: fx.etcd.endpoints.join(','),
      FELIX_IPV6SUPPORT: 'false',
      AUTODETECT_POLL_INTERVAL: '200ms',
      CALICO_STARTUP_LOGLEVEL: 'Info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.add(proc);
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (err += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      procs.delete(proc);
      resolve(code);
    }),
  );
  return { proc, stderr: () => err, exited };
}

async function stopMonitor(m: Monitor): Promise<number | null> {
  m.proc.kill('SIGTERM');
  return m.exited;
}

const ipv4Of = async (node: string) => ((await fx.ds.get({ kind: 'Node', name: node })).spec as { bgp?: { ipv4Address?: string } }).bgp?.ipv4Address;

async function readdress(from: string, to: string): Promise<void> {
  await run('ip', ['-n', ns, 'addr', 'add', to, 'dev', 'eth0']);
  await run('ip', ['-n', ns, 'addr', 'del', from, 'dev', 'eth0']);
}

before(async () => {
  await requireNetnsTools();
  varLib = await mkdtemp(join(tmpdir(), 'cattail-monitor-'));
  await createNetns(ns);
  await run('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
  await run('ip', ['-n', ns, 'addr', 'add', '10.79.1.5/24', 'dev', 'eth0']);
  await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
});

after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await deleteNetns(ns);
  if (varLib) await rm(varLib, { recursive: true, force: true });
});

test('IP=autodetect: the Node follows the interface address while the monitor runs; SIGTERM ends it with 0', async () => {
  const m = startMonitor('mon-a', { IP: 'autodetect' });
  await until(
    async () => (await ipv4Of('mon-a').catch(() => undefined)) === '10.79.1.5/24',
    () => `the first check: ${m.stderr()}`,
    30_000,
  );
  await readdress('10.79.1.5/24', '10.79.2.7/24');
  await until(
    async () => (await ipv4Of('mon-a')) === '10.79.2.7/24',
    () => `the new address on the Node: ${m.stderr()}`,
    30_000,
  );
  assert.match(m.stderr(), /the node addresses changed; Node updated/);
  assert.equal(await stopMonitor(m), 0);
  await readdress('10.79.2.7/24', '10.79.1.5/24');
});

test('a fixed IP: the Node keeps it whatever the interfaces do', async () => {
  const m = startMonitor('mon-b', { IP: '10.79.9.9/24', CALICO_STARTUP_LOGLEVEL: 'Debug' });
  await until(
    async () => (await ipv4Of('mon-b').catch(() => undefined)) === '10.79.9.9/24',
    () => `mon-b written: ${m.stderr()}`,
    30_000,
  );
  const rev = (await fx.ds.get({ kind: 'Node', name: 'mon-b' })).metadata.resourceVersion;
  await readdress('10.79.1.5/24', '10.79.3.3/24');
  // Three checks of the monitor's after the change (its debug line per check), none writing.
  const checks = () => m.stderr().split('node addresses checked').length - 1;
  const seen = checks();
  await until(
    () => checks() >= seen + 3,
    () => 'three more checks',
    30_000,
  );
  assert.equal((await fx.ds.get({ kind: 'Node', name: 'mon-b' })).metadata.resourceVersion, rev, 'nothing written');
  assert.equal(await ipv4Of('mon-b'), '10.79.9.9/24');
  assert.equal(await stopMonitor(m), 0);
  await readdress('10.79.3.3/24', '10.79.1.5/24');
});

test("a detected address another Node holds: this Node's address is cleared and the monitor exits 1 with the conflict", async () => {
  const m = startMonitor('mon-c', { IP: 'autodetect' });
  await until(
    async () => (await ipv4Of('mon-c').catch(() => undefined)) === '10.79.1.5/24',
    () => `mon-c written: ${m.stderr()}`,
    30_000,
  );
  await fx.ds.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'mon-other' }, spec: { bgp: { ipv4Address: '10.79.4.4/24' } } });
  await readdress('10.79.1.5/24', '10.79.4.4/24');
  assert.equal(await m.exited, 1, m.stderr());
  assert.match(m.stderr(), /STARTUP_ADDRESS_CONFLICT/);
  assert.equal(await ipv4Of('mon-c'), undefined, 'the old address freed');
  assert.equal(await ipv4Of('mon-other'), '10.79.4.4/24', "the other Node's untouched");
  await readdress('10.79.4.4/24', '10.79.1.5/24');
});
