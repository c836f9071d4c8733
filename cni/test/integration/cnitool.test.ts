// The plugin driven by cnitool, the CNI project's own client (libcni): it finds the plugin on
// CNI_PATH by its `type`, the config in NETCONFPATH by network name, caches the ADD result and
// hands it back as prevResult for CHECK and DEL, exactly as a container runtime does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ipam } from '@cattail/datastore';
import { vethName } from '../../src/names.js';
import {
  createNetns,
  ipJson,
  ipPool,
  netConf,
  netnsPath,
  requireTools,
  run,
  runInNetns,
  startCluster,
  uniquePrefix,
  PLUGIN,
  type NetnsRun,
} from './harness.js';

const execFileP = promisify(execFile);
const REPO = new URL('../../../../', import.meta.url).pathname;

async function cnitoolPath(): Promise<string> {
  try {
    const { stdout } = await execFileP('bash', [join(REPO, 'scripts/go-tool.sh'), 'cnitool'], { timeout: 900_000 });
    return stdout.trim().split('\n').pop() ?? '';
  } catch (err) {
    throw new Error(`this test needs cnitool: \`bash scripts/go-tool.sh cnitool\` failed (Go missing?): ${(err as Error).message}`);
  }
}

function cnitool(nodeNs: string, env: Record<string, string>, args: string[]): Promise<NetnsRun> {
  return runInNetns(nodeNs, env, args, undefined, 300_000, `cnitool ${args[1]}`);
}

test('cnitool add / check / del through libcni', { timeout: 900_000 }, async (t) => {
  await requireTools();
  const tool = await cnitoolPath();
  const cluster = await startCluster(t);
  await cluster.ds.create(ipPool('pool-a', '10.66.0.0/16'));
  const prefix = uniquePrefix();
  const node = await createNetns(t, `${prefix}-node`);
  const pod = await createNetns(t, `${prefix}-pod`);
  await cluster.expose(t, node);

  const dir = await mkdtemp(join(tmpdir(), 'cattail-cnitool-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const confDir = join(dir, 'net.d');
  const binDir = join(dir, 'bin');
  await run('mkdir', ['-p', confDir, binDir]);
  await writeFile(join(confDir, 'k8s-pod-network.conf'), JSON.stringify(netConf(cluster.endpoint), null, 2));
  const wrapper = join(binDir, 'cattail-cni');
  await writeFile(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(PLUGIN)} "$@"\n`);
  await chmod(wrapper, 0o755);
  const env = { NETCONFPATH: confDir, CNI_PATH: binDir, CNI_ARGS: 'K8S_POD_NAMESPACE=tools;K8S_POD_NAME=cnitool-pod', CNI_IFNAME: 'eth0' };
  const netns = netnsPath(pod);

  const add = await cnitool(node, env, [tool, 'add', 'k8s-pod-network', netns]);
  assert.equal(add.code, 0, `cnitool add failed: ${add.stdout}\n${add.stderr}`);
  const result = JSON.parse(add.stdout) as { cniVersion: string; ips: Array<{ address: string; interface: number }>; interfaces: Array<{ name: string }> };
  assert.equal(result.cniVersion, '1.0.0');
  assert.equal(result.interfaces[0].name, vethName('tools', 'cnitool-pod'));
  const ip = result.ips[0].address.split('/')[0];
  const [eth0] = await ipJson<Array<{ addr_info: Array<{ local: string; family: string }> }>>(pod, ['addr', 'show', 'dev', 'eth0']);
  assert.deepEqual(
    eth0.addr_info.filter((a) => a.family === 'inet').map((a) => a.local),
    [ip],
  );
  const wep = await cluster.ds.get({ kind: 'WorkloadEndpoint', name: 'node--1-k8s-cnitool--pod-eth0', namespace: 'tools' });
  assert.match(String((wep.spec as { containerID: string }).containerID), /^cnitool-[0-9a-f]{20}$/, 'container ID as cnitool makes it');

  const check = await cnitool(node, env, [tool, 'check', 'k8s-pod-network', netns]);
  assert.equal(check.code, 0, `cnitool check failed: ${check.stdout}\n${check.stderr}`);

  await run('ip', ['-n', pod, 'addr', 'del', `${ip}/32`, 'dev', 'eth0']);
  const broken = await cnitool(node, env, [tool, 'check', 'k8s-pod-network', netns]);
  assert.notEqual(broken.code, 0, 'check notices the missing address');
  assert.match(broken.stdout + broken.stderr, new RegExp(`lacks address ${ip.replace(/\./g, '\\.')}/32`));

  const del = await cnitool(node, env, [tool, 'del', 'k8s-pod-network', netns]);
  assert.equal(del.code, 0, `cnitool del failed: ${del.stdout}\n${del.stderr}`);
  await assert.rejects(cluster.ds.get({ kind: 'WorkloadEndpoint', name: 'node--1-k8s-cnitool--pod-eth0', namespace: 'tools' }), {
    code: 'DATASTORE_NOT_FOUND',
  });
  const containerId = (wep.spec as { containerID: string }).containerID;
  assert.deepEqual(await new ipam.IpamClient(cluster.ds).ipsByHandle(`k8s-pod-network.${containerId}`), []);
  assert.equal((await ipJson<unknown[]>(pod, ['link', 'show', 'dev', 'eth0']).catch(() => [])).length, 0);
});
