/**
 * `cattail ipam show|check|release|configure` in-process against a real etcd, on IPAM data our
 * IPAM client allocated: one pool, node-1 and node-2 with a block each, node-3 borrowing from
 * them (its own block claims are off), workload endpoints for some of the addresses and none
 * for the others (leaked), and a handle no block refers to.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { API_VERSION, type Resource } from '@cattail/api';
import { ipam } from '@cattail/datastore';
import { sharedEtcd } from '@cattail/datastore/testing';
import type { CheckReport } from '../../src/ipam/check-report.js';
import { run } from '../../src/run.js';
import { clientVersion } from '../../src/version-info.js';

const fx = sharedEtcd({ wipe: '/calico/' });
let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cattail-ipam-it-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const GUID = '0123456789abcdef0123456789abcdef';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cattail(...argv: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (s) => void (stdout += s) },
    stderr: { write: (s) => void (stderr += s) },
    env: { ETCD_ENDPOINTS: fx.etcd.endpoints.join(',') },
    cwd: dir,
  });
  return { code, stdout, stderr };
}

function res(kind: string, name: string, spec: Record<string, unknown>, namespace?: string): Resource {
  return { apiVersion: API_VERSION, kind, metadata: namespace ? { name, namespace } : { name }, spec };
}

function wep(pod: string, node: string, addresses: readonly string[]): Resource {
  const name = `${node}-k8s-${pod}-eth0`;
  return res(
    'WorkloadEndpoint',
    name,
    { orchestrator: 'k8s', workload: '', node, pod, endpoint: 'eth0', interfaceName: `cali${pod}`, ipNetworks: addresses.map((a) => `${a}/32`) },
    'default',
  );
}

interface Seeded {
  /** Addresses per handle. */
  ips: Record<string, string[]>;
  /** Block CIDR per node (node-1, node-2). */
  blocks: Record<string, string>;
}

/**
 * h-a (2 addresses) and h-b on node-1, h-c on node-2, h-d on node-3 (borrowed); workload
 * endpoints exist for h-a and h-c only, so h-b's and h-d's addresses are leaked; `h-orphan` is a
 * handle without addresses.
 */
async function seed(): Promise<Seeded> {
  const ds = fx.ds;
  await ds.create(res('ClusterInformation', 'default', { clusterGUID: GUID, datastoreReady: true }));
  for (const n of ['node-1', 'node-2', 'node-3']) await ds.create(res('Node', n, {}));
  await ds.create(res('IPPool', 'pool-a', { cidr: '10.66.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true }));
  const client = new ipam.IpamClient(ds);
  const ips: Record<string, string[]> = {};
  const blocks: Record<string, string> = {};
  const assign = async (handle: string, node: string, num: number, pod: string): Promise<void> => {
    const got = await client.autoAssign({
      handleId: handle,
      node,
      num4: num,
      num6: 0,
      attrs: { node, namespace: 'default', pod, timestamp: '2026-01-02T03:04:05Z' },
    });
    ips[handle] = got.ipv4.map((a) => a.address);
    blocks[node] ??= got.ipv4[0].block;
  };
  await assign('h-a', 'node-1', 2, 'pod-a');
  await assign('h-b', 'node-1', 1, 'pod-b');
  await assign('h-c', 'node-2', 1, 'pod-c');
  // node-3 may not claim a block: it borrows from node-1's or node-2's.
  await ds.create(res('IPAMConfiguration', 'default', { strictAffinity: false, autoAllocateBlocks: false, maxBlocksPerHost: 0 }));
  await assign('h-d', 'node-3', 1, 'pod-d');
  delete blocks['node-3'];
  await ds.create(wep('pod-a', 'node-1', ips['h-a']));
  await ds.create(wep('pod-c', 'node-2', ips['h-c']));
  await ds.create(res('IPAMHandle', 'h-orphan', { handleID: 'h-orphan', block: {}, deleted: false }));
  return { ips, blocks };
}

let seeded: Seeded;
beforeEach(async () => {
  seeded = await seed();
});

/** The lines of a boxed table, for comparing against expected text. */
function box(...lines: string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}

test('show: the pool table, with blocks and their affinity', async () => {
  assert.deepEqual(seeded.blocks, { 'node-1': '10.66.224.192/26', 'node-2': '10.66.69.128/26' }, 'blocks are chosen from the node names: stable');
  const show = await cattail('ipam', 'show');
  assert.equal(show.stderr, '');
  assert.equal(show.code, 0);
  assert.equal(
    show.stdout,
    box(
      '+----------+--------------+-----------+------------+--------------+',
      '| GROUPING |     CIDR     | IPS TOTAL | IPS IN USE |   IPS FREE   |',
      '+----------+--------------+-----------+------------+--------------+',
      '| IP Pool  | 10.66.0.0/16 |     65536 | 5 (0%)     | 65531 (100%) |',
      '+----------+--------------+-----------+------------+--------------+',
    ),
  );

  const blocks = await cattail('ipam', 'show', '--show-blocks');
  assert.equal(blocks.code, 0, blocks.stderr);
  assert.equal(
    blocks.stdout,
    box(
      '+----------+------------------+-----------+------------+--------------+-------------+',
      '| GROUPING |       CIDR       | IPS TOTAL | IPS IN USE |   IPS FREE   |  AFFINITY   |',
      '+----------+------------------+-----------+------------+--------------+-------------+',
      '| IP Pool  | 10.66.0.0/16     |     65536 | 5 (0%)     | 65531 (100%) |             |',
      '| Block    | 10.66.69.128/26  |        64 | 1 (2%)     | 63 (98%)     | host:node-2 |',
      '| Block    | 10.66.224.192/26 |        64 | 4 (6%)     | 60 (94%)     | host:node-1 |',
      '+----------+------------------+-----------+------------+--------------+-------------+',
    ),
  );

  // A block whose pool was deleted is shown after the pools, without a pool row.
  await fx.ds.delete({ kind: 'IPPool', name: 'pool-a' });
  const orphan = await cattail('ipam', 'show', '--show-blocks');
  assert.match(orphan.stdout, /^\| GROUPING \|/m);
  assert.deepEqual(orphan.stdout.split('\n').filter((l) => l.startsWith('| Block') || l.startsWith('| IP Pool')).length, 2, 'two block rows and no pool row');
});

test('show: borrowed addresses, one address, the configuration', async () => {
  const borrowed = await cattail('ipam', 'show', '--show-borrowed');
  assert.equal(borrowed.code, 0, borrowed.stderr);
  const [d] = seeded.ips['h-d'];
  assert.equal(d, '10.66.224.195', 'node-3 borrowed from node-1’s block');
  assert.equal(
    borrowed.stdout,
    box(
      '+---------------+----------------+------------------+-------------+------+---------------+',
      '|      IP       | BORROWING-NODE |      BLOCK       | BLOCK OWNER | TYPE | ALLOCATED-TO  |',
      '+---------------+----------------+------------------+-------------+------+---------------+',
      '| 10.66.224.195 | node-3         | 10.66.224.192/26 | node-1      | pod  | default/pod-d |',
      '+---------------+----------------+------------------+-------------+------+---------------+',
    ),
  );

  const one = await cattail('ipam', 'show', `--ip=${seeded.ips['h-a'][1]}`);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(
    one.stdout,
    [
      'IP 10.66.224.193 is in use',
      'Handle ID: h-a',
      'Active Owner Attributes:',
      '  namespace: default',
      '  node: node-1',
      '  pod: pod-a',
      '  timestamp: 2026-01-02T03:04:05Z',
      '',
    ].join('\n'),
  );
  const free = await cattail('ipam', 'show', '--ip=10.66.224.250');
  assert.deepEqual(free, { code: 0, stdout: '10.66.224.250 is not assigned\n', stderr: '' });

  const cfg = await cattail('ipam', 'show', '--show-configuration');
  assert.equal(
    cfg.stdout,
    box(
      '+--------------------+-------+',
      '|      PROPERTY      | VALUE |',
      '+--------------------+-------+',
      '| StrictAffinity     | false |',
      '| AutoAllocateBlocks | false |',
      '| MaxBlocksPerHost   | 0     |',
      '+--------------------+-------+',
    ),
  );
});

test('show: flags are checked before the datastore is used', async () => {
  const bad = await cattail('ipam', 'show', '--ip=10.66.1', '--etcd-endpoints=http://127.0.0.1:1');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^--ip: "10\.66\.1" is not an IP address\n/);
  const both = await cattail('ipam', 'show', '--show-blocks', '--show-borrowed');
  assert.equal(both.code, 1);
  assert.match(both.stderr, /--show-blocks and --show-borrowed cannot be combined/);
  const extra = await cattail('ipam', 'show', 'blocks');
  assert.match(extra.stderr, /unexpected argument "blocks"/);
});

/** Marks the datastore locked, as `calicoctl datastore migrate lock` does. */
async function lockDatastore(): Promise<void> {
  const info = await fx.ds.get({ kind: 'ClusterInformation', name: 'default' });
  await fx.ds.update({ ...info, spec: { ...info.spec, datastoreReady: false } });
}

async function report(name = 'report.json'): Promise<CheckReport> {
  return JSON.parse(await readFile(join(dir, name), 'utf8')) as CheckReport;
}

test('check: leaked addresses and handles, and calicoctl’s JSON report', async () => {
  const check = await cattail('ipam', 'check', '--show-problem-ips', '-o', 'report.json');
  assert.equal(check.code, 0, check.stderr);
  const lines = check.stdout.split('\n');
  for (const expected of [
    'Checking IPAM for inconsistencies...',
    'Found 2 IPAM blocks.',
    ' IPAM block 10.66.224.192/26 affinity=host:node-1:',
    'IPAM blocks record 5 allocations.',
    'Found 1 active IP pools.',
    'Found 3 workload IPs.',
    'Workloads and nodes are using 3 IPs.',
    '  node-1 has 3 allocations',
    '  10.66.224.194 leaked; attrs Main:h-b Extra:namespace=default,node=node-1,pod=pod-b,timestamp=2026-01-02T03:04:05Z',
    '  10.66.224.195 leaked; attrs Main:h-d Extra:namespace=default,node=node-3,pod=pod-d,timestamp=2026-01-02T03:04:05Z',
    'Found 2 IPs that are allocated in IPAM but not actually in use.',
    'Found 1 handles with no matching IPs (and 4 handles with matches).',
    'Found 0 handles mentioned in blocks with no matching handle resource.',
    'Found 0 blocks affine to nodes with no Node resource.',
    'Check complete; found 3 problems.',
  ]) {
    assert.ok(lines.includes(expected), `missing line: ${expected}\n${check.stdout}`);
  }

  const r = await report();
  const info = await fx.ds.get({ kind: 'ClusterInformation', name: 'default' });
  assert.deepEqual(Object.keys(r), ['version', 'clusterGUID', 'datastoreLocked', 'clusterInformationRevision', 'clusterType', 'allocations', 'leakedHandles']);
  assert.equal(r.version, clientVersion());
  assert.equal(r.clusterGUID, GUID);
  assert.equal(r.datastoreLocked, false);
  assert.equal(r.clusterInformationRevision, info.metadata.resourceVersion);
  assert.deepEqual(
    Object.keys(r.allocations),
    ['10.66.224.192', '10.66.224.193', '10.66.224.194', '10.66.224.195', '10.66.69.128'],
    'sorted as Go sorts map keys',
  );
  assert.deepEqual(r.allocations['10.66.224.195'], [
    {
      ip: '10.66.224.195',
      handle: 'h-d',
      sequenceNumber: 2,
      pod: 'pod-d',
      namespace: 'default',
      node: 'node-3',
      creationTimestamp: '2026-01-02T03:04:05Z',
      inUse: false,
      borrowed: true,
      owners: null,
    },
  ]);
  assert.deepEqual(r.allocations['10.66.69.128'][0].owners, ['Workload(default/node-2-k8s-pod-c-eth0)']);
  assert.equal(r.allocations['10.66.69.128'][0].inUse, true);
  const orphan = await fx.ds.get({ kind: 'IPAMHandle', name: 'h-orphan' });
  assert.deepEqual(r.leakedHandles, [{ ID: 'h-orphan', UID: orphan.metadata.uid ?? null, Revision: orphan.metadata.resourceVersion }]);

  // A block affine to a node without a Node resource is a problem too.
  await fx.ds.delete({ kind: 'Node', name: 'node-2' });
  const again = await cattail('ipam', 'check', '--show-problem-ips');
  assert.match(again.stdout, /^ {2}10\.66\.69\.128\/26 \(node node-2\) has no Node resource\.$/m);
  assert.match(again.stdout, /^Found 1 blocks affine to nodes with no Node resource\.$/m);
  assert.match(again.stdout, /^Check complete; found 4 problems\.$/m);

  const noDir = await cattail('ipam', 'check', '-o', 'missing/report.json');
  assert.equal(noDir.code, 1);
  assert.match(noDir.stderr, /--output: directory .*missing does not exist/);
  assert.equal(noDir.stdout, '', 'nothing checked');
});

test('release --ip frees the address and lowers its handle; an unassigned address is an error', async () => {
  const [b] = seeded.ips['h-b'];
  const rel = await cattail('ipam', 'release', `--ip=${b}`);
  assert.deepEqual(rel, { code: 0, stdout: `Successfully released IP address ${b}\n`, stderr: '' });
  assert.equal((await ipam.readHandle(fx.ds, 'h-b')).resource, undefined, 'its only address gone, the handle is deleted');
  assert.match((await cattail('ipam', 'show', `--ip=${b}`)).stdout, /is not assigned/);
  const again = await cattail('ipam', 'release', `--ip=${b}`);
  assert.deepEqual(again, { code: 1, stdout: '', stderr: `IP address ${b} is not assigned\n` });
  assert.deepEqual(await new ipam.IpamClient(fx.ds).ipsByHandle('h-a').then((x) => x.map((i) => i.address)), seeded.ips['h-a'], 'others untouched');

  for (const [args, message] of [
    [[], /give --ip=<IP> or --from-report=<REPORT>/],
    [['--ip=1.2.3.4', '--from-report=r.json'], /either --ip or --from-report, not both/],
    [['--ip=1.2.3.4', '--force'], /--force applies only to --from-report/],
    [['--ip=nope'], /--ip: "nope" is not an IP address/],
  ] as const) {
    const r = await cattail('ipam', 'release', ...args);
    assert.equal(r.code, 1);
    assert.match(r.stderr, message);
  }
});

test('release --from-report frees exactly the leaked addresses and handles, re-checking each; a re-run is a no-op', async () => {
  await lockDatastore();
  assert.equal((await cattail('ipam', 'check', '-o', 'report.json')).code, 0);
  const rel = await cattail('ipam', 'release', '--from-report=report.json');
  assert.equal(rel.stderr, '');
  assert.equal(rel.code, 0);
  assert.equal(
    rel.stdout,
    [
      'Releasing 2 old IPs...',
      'Released 2 IPs successfully',
      'Deleting 1 handles...',
      "Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.",
      '.',
      'Released 1 handles; 0 skipped; 0 errors.',
      'You may now unlock the data store.',
      '',
    ].join('\n'),
  );
  const client = new ipam.IpamClient(fx.ds);
  assert.deepEqual(await client.ipsByHandle('h-b'), []);
  assert.deepEqual(await client.ipsByHandle('h-d'), []);
  assert.equal((await ipam.readHandle(fx.ds, 'h-orphan')).resource, undefined);
  assert.deepEqual(
    (await client.ipsByHandle('h-a')).map((i) => i.address),
    seeded.ips['h-a'],
  );
  assert.deepEqual(
    (await client.ipsByHandle('h-c')).map((i) => i.address),
    seeded.ips['h-c'],
  );
  assert.match((await cattail('ipam', 'check')).stdout, /^Check complete; found 0 problems\.$/m);

  const rerun = await cattail('ipam', 'release', '--from-report=report.json');
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stdout, /^Released 0 IPs successfully\n2 addresses marked as leaked in the report had already been cleaned up\.$/m);
  assert.match(rerun.stdout, /^x\nReleased 0 handles; 1 skipped; 0 errors\.$/m);
});

test('release --from-report skips what is in use or changed since the report', async () => {
  await lockDatastore();
  assert.equal((await cattail('ipam', 'check', '-o', 'report.json')).code, 0);
  // Since the report: pod-b got its endpoint, and h-orphan was written again.
  await fx.ds.create(wep('pod-b', 'node-1', seeded.ips['h-b']));
  const orphan = await fx.ds.get({ kind: 'IPAMHandle', name: 'h-orphan' });
  await fx.ds.update(orphan);
  const rel = await cattail('ipam', 'release', '--from-report=report.json');
  assert.equal(rel.code, 0, rel.stderr);
  assert.match(rel.stdout, /^Released 1 IPs successfully\n1 addresses marked as leaked in the report are in use or allocated again since; not released\.$/m);
  assert.match(rel.stdout, /^x\nReleased 0 handles; 1 skipped; 0 errors\.$/m);
  const client = new ipam.IpamClient(fx.ds);
  assert.deepEqual(
    (await client.ipsByHandle('h-b')).map((i) => i.address),
    seeded.ips['h-b'],
  );
  assert.deepEqual(await client.ipsByHandle('h-d'), []);
  assert.notEqual((await ipam.readHandle(fx.ds, 'h-orphan')).resource, undefined);

  // A report whose allocation is not the one in the block now (another sequence number: the
  // address was freed and handed out again) frees nothing.
  const r = await report();
  const [a] = seeded.ips['h-a'];
  r.allocations[a] = [{ ...r.allocations[a][0], inUse: false, sequenceNumber: 99 }];
  await fx.ds.delete({ kind: 'WorkloadEndpoint', name: 'node-1-k8s-pod-a-eth0', namespace: 'default' });
  await writeFile(join(dir, 'changed.json'), JSON.stringify(r));
  const changed = await cattail('ipam', 'release', '--from-report=changed.json');
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stdout, /^Released 0 IPs successfully\n/m);
  assert.deepEqual(
    (await client.ipsByHandle('h-a')).map((i) => i.address),
    seeded.ips['h-a'],
  );
});

test('release --from-report: calicoctl’s preconditions (cluster, lock, staleness, version)', async () => {
  assert.equal((await cattail('ipam', 'check', '-o', 'report.json')).code, 0);
  const unlocked = await cattail('ipam', 'release', '--from-report=report.json');
  assert.deepEqual(unlocked, { code: 1, stdout: '', stderr: 'data store is not locked. Either lock the data store, or re-run with --force\n' });

  const r = await report();
  await writeFile(join(dir, 'other.json'), JSON.stringify({ ...r, clusterGUID: 'another' }));
  const other = await cattail('ipam', 'release', '--from-report=other.json', '--force');
  assert.equal(other.code, 1);
  assert.match(other.stderr, /mismatched cluster GUID\. Refusing to release/);

  await writeFile(join(dir, 'old.json'), JSON.stringify({ ...r, version: 'v0.0.1' }));
  const old = await cattail('ipam', 'release', '--from-report=old.json');
  assert.match(old.stderr, /was produced using a different version \(v0\.0\.1\)/);

  await lockDatastore(); // moves ClusterInformation on: the report is now stale
  const stale = await cattail('ipam', 'release', '--from-report=report.json');
  assert.match(stale.stderr, /the provided report is stale/);

  await writeFile(join(dir, 'broken.json'), '{"version": "v1"');
  const broken = await cattail('ipam', 'release', '--from-report=broken.json');
  assert.match(broken.stderr, /^broken\.json: not an ipam check report: not JSON/);
  const missing = await cattail('ipam', 'release', '--from-report=none.json');
  assert.match(missing.stderr, /^cannot read the report none\.json: ENOENT/);

  const forced = await cattail('ipam', 'release', '--from-report=report.json', '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /^WARNING: Report is stale\. Ignoring due to --force option$/m);
  assert.match(forced.stdout, /^Released 2 IPs successfully$/m);
});

test('release --from-report stopped by a signal leaves consistent data; the same command finishes the job', async () => {
  await lockDatastore();
  assert.equal((await cattail('ipam', 'check', '-o', 'report.json')).code, 0);
  const abort = new AbortController();
  let stdout = '';
  let stderr = '';
  const code = await run(['ipam', 'release', '--from-report=report.json'], {
    stdout: {
      write: (s) => {
        stdout += s;
        // Stop once the addresses are done, before the handles.
        if (s.startsWith('Released 2 IPs')) abort.abort('SIGTERM');
      },
    },
    stderr: { write: (s) => void (stderr += s) },
    env: { ETCD_ENDPOINTS: fx.etcd.endpoints.join(',') },
    cwd: dir,
    signal: abort.signal,
  });
  assert.equal(code, 143);
  assert.match(stderr, /^interrupted by SIGTERM: the release stopped between two items and the data is consistent; run the same command again to finish\n$/);
  assert.match(stdout, /Deleting 1 handles\.\.\.\n.*\n\nReleased 0 handles; 0 skipped; 0 errors\.\n$/);
  assert.notEqual((await ipam.readHandle(fx.ds, 'h-orphan')).resource, undefined, 'the handle was not reached');

  const resumed = await cattail('ipam', 'release', '--from-report=report.json');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /^2 addresses marked as leaked in the report had already been cleaned up\.$/m);
  assert.match(resumed.stdout, /^Released 1 handles; 0 skipped; 0 errors\.$/m);
  assert.match((await cattail('ipam', 'check')).stdout, /^Check complete; found 0 problems\.$/m);
});

test('configure writes IPAMConfiguration default, keeping the fields not given', async () => {
  const set = await cattail('ipam', 'configure', '--strictaffinity=true');
  assert.deepEqual(set, { code: 0, stdout: 'Successfully set StrictAffinity to: true\n', stderr: '' });
  const stored = await fx.ds.get({ kind: 'IPAMConfiguration', name: 'default' });
  assert.deepEqual(stored.spec, { strictAffinity: true, autoAllocateBlocks: false, maxBlocksPerHost: 0 });
  assert.equal((await ipam.readIpamSettings(fx.ds)).strictAffinity, true);
  assert.match((await cattail('ipam', 'show', '--show-configuration')).stdout, /^\| StrictAffinity {5}\| true {2}\|$/m);

  // Strict affinity now forbids node-3 to borrow.
  await assert.rejects(new ipam.IpamClient(fx.ds).autoAssign({ handleId: 'h-e', node: 'node-3', num4: 1, num6: 0 }), /strictAffinity forbids borrowing/);

  await fx.ds.delete({ kind: 'IPAMConfiguration', name: 'default' });
  const fresh = await cattail('ipam', 'configure', '--strictaffinity=False', '--max-blocks-per-host=4');
  assert.equal(fresh.stdout, 'Successfully set StrictAffinity to: false\nSuccessfully set MaxBlocksPerHost to: 4\n');
  assert.deepEqual((await fx.ds.get({ kind: 'IPAMConfiguration', name: 'default' })).spec, {
    strictAffinity: false,
    autoAllocateBlocks: true,
    maxBlocksPerHost: 4,
  });

  for (const [args, message] of [
    [[], /at least one configuration option must be specified/],
    [['--strictaffinity=yes'], /invalid value\. Use true or false to set strictaffinity/],
    [['--max-blocks-per-host=-1'], /invalid value for max-blocks-per-host: "-1"/],
  ] as const) {
    const r = await cattail('ipam', 'configure', ...args);
    assert.equal(r.code, 1);
    assert.match(r.stderr, message);
  }
});

test('split: only locked, into equal children that keep every allocation valid; an interrupted split resumes', async () => {
  await fx.ds.create(res('IPPool', 'big', { cidr: '10.80.0.0/16', blockSize: 26, natOutgoing: true, nodeSelector: 'all()' }));
  await fx.ds.create(res('Node', 'split-node', {}));
  // The seeded cluster claims no blocks; this test wants the pool's blocks claimed as usual.
  const config = await fx.ds.get({ kind: 'IPAMConfiguration', name: 'default' });
  await fx.ds.update({ ...config, spec: { ...config.spec, autoAllocateBlocks: true } });
  const client = new ipam.IpamClient(fx.ds);
  const got = await client.autoAssign({ handleId: 'split-h', node: 'split-node', num4: 2, num6: 0, pools: ['big'] });

  const unlocked = await cattail('ipam', 'split', '--name=big', '4');
  assert.equal(unlocked.code, 1);
  assert.match(unlocked.stderr + unlocked.stdout, /Datastore is not locked/);
  assert.equal((await cattail('datastore', 'migrate', 'lock')).code, 0);
  for (const [n, re] of [
    ['3', /power of 2/],
    ['2048', /smaller than one block \(\/26\); split into at most 1024/],
  ] as const) {
    const r = await cattail('ipam', 'split', '--cidr=10.80.0.0/16', n);
    assert.equal(r.code === 0, false, n);
    assert.match(r.stderr + r.stdout, re);
  }
  // An interrupted run: one child written, the parent still there.
  await fx.ds.create(res('IPPool', 'big-1', { cidr: '10.80.64.0/18', blockSize: 26, natOutgoing: true, nodeSelector: 'all()' }));
  const r = await cattail('ipam', 'split', '--cidr=10.80.0.0/16', '4');
  assert.equal(r.code, 0, r.stderr);
  const pools = (await fx.ds.list('IPPool')).items.filter((p) => p.metadata.name.startsWith('big'));
  assert.deepEqual(pools.map((p) => `${p.metadata.name} ${String(p.spec?.cidr)} ${String(p.spec?.natOutgoing)}`).sort(), [
    'big-0 10.80.0.0/18 true',
    'big-1 10.80.64.0/18 true',
    'big-2 10.80.128.0/18 true',
    'big-3 10.80.192.0/18 true',
  ]);
  assert.deepEqual(
    (await client.ipsByHandle('split-h')).map((a) => a.address).sort(),
    [...got.ipv4.map((a) => a.address)].sort(),
    'the allocations are untouched',
  );
  assert.equal((await cattail('datastore', 'migrate', 'unlock')).code, 0);
  const more = await client.autoAssign({ handleId: 'split-h2', node: 'split-node', num4: 1, num6: 0 });
  assert.match(more.ipv4[0].address, /^10\.80\./, 'the children allocate after the unlock');
});
