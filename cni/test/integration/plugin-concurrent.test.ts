// 50 concurrent plugin ADDs (real processes, two node namespaces, one pod namespace each) against
// one etcd: every pod gets its own address, on its interface, in its endpoint; 50 concurrent DELs
// free every address and leave no endpoint, handle or interface behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipam } from '@cattail/datastore';
import { cniEnv, createNetns, ipJson, ipPool, netConf, requireTools, runCni, startCluster, uniquePrefix } from './harness.js';

const PODS = 50;
const NODES = 2;

test(`${PODS} concurrent ADDs on ${NODES} nodes: no duplicate address; concurrent DELs free them all`, { timeout: 600_000 }, async (t) => {
  await requireTools();
  const cluster = await startCluster(t);
  await cluster.ds.create(ipPool('pool-a', '10.66.0.0/16'));
  const prefix = uniquePrefix();
  const nodes: string[] = [];
  for (let n = 0; n < NODES; n++) {
    const ns = await createNetns(t, `${prefix}-n${n}`);
    await cluster.expose(t, ns);
    nodes.push(ns);
  }
  const pods = [];
  for (let i = 0; i < PODS; i++) {
    const ns = await createNetns(t, `${prefix}-p${i}`);
    const n = i % NODES;
    pods.push({ ns, node: nodes[n], nodename: `node-${n}`, cid: `cid${i.toString(16).padStart(6, '0')}`, identity: { namespace: 'load', name: `pod-${i}` } });
  }

  const adds = await Promise.all(
    pods.map((p) => runCni(p.node, cniEnv('ADD', p.cid, p.ns, p.identity), netConf(cluster.endpoint, { nodename: p.nodename }), 300_000)),
  );
  adds.forEach((r, i) => assert.equal(r.code, 0, `ADD of pod-${i} failed: ${r.stdout}\n${r.stderr}`));
  const ips = adds.map((r) => (r.json as { ips: Array<{ address: string }> }).ips[0].address.split('/')[0]);
  assert.equal(new Set(ips).size, PODS, 'every pod has its own address');

  // Each address is on its pod's eth0 and in its endpoint; IPAM agrees.
  const client = new ipam.IpamClient(cluster.ds);
  for (let i = 0; i < PODS; i++) {
    const links: Array<{ addr_info: Array<{ local: string; family: string }> }> = await ipJson(pods[i].ns, ['addr', 'show', 'dev', 'eth0']);
    const eth0 = links[0];
    assert.deepEqual(
      eth0.addr_info.filter((a) => a.family === 'inet').map((a) => a.local),
      [ips[i]],
    );
    assert.deepEqual(
      (await client.ipsByHandle(`k8s-pod-network.${pods[i].cid}`)).map((a) => a.address),
      [ips[i]],
    );
  }
  const weps = (await cluster.ds.list('WorkloadEndpoint', { namespace: 'load' })).items;
  assert.equal(weps.length, PODS);
  assert.deepEqual(new Set(weps.flatMap((w) => (w.spec as { ipNetworks: string[] }).ipNetworks)), new Set(ips.map((ip) => `${ip}/32`)));
  // Blocks: each node uses its own.
  const blocksByNode = new Map<string, Set<string>>();
  for (const b of (await cluster.ds.list('IPAMBlock')).items) {
    const spec = b.spec as { affinity?: string; cidr: string; allocations: Array<number | null> };
    if (spec.allocations.some((a) => a !== null)) blocksByNode.set(spec.affinity ?? '', new Set([...(blocksByNode.get(spec.affinity ?? '') ?? []), spec.cidr]));
  }
  assert.deepEqual([...blocksByNode.keys()].sort(), ['host:node-0', 'host:node-1']);

  const dels = await Promise.all(
    pods.map((p) => runCni(p.node, cniEnv('DEL', p.cid, p.ns, p.identity), netConf(cluster.endpoint, { nodename: p.nodename }), 300_000)),
  );
  dels.forEach((r, i) => assert.equal(r.code, 0, `DEL of pod-${i} failed: ${r.stdout}\n${r.stderr}`));
  assert.equal((await cluster.ds.list('WorkloadEndpoint', { namespace: 'load' })).items.length, 0);
  assert.equal((await cluster.ds.list('IPAMHandle')).items.length, 0);
  const stillAllocated = (await cluster.ds.list('IPAMBlock')).items.flatMap((b) =>
    (b.spec as { allocations: Array<number | null> }).allocations.filter((a) => a !== null),
  );
  assert.deepEqual(stillAllocated, [], 'every address is free again');
  for (const node of nodes) {
    const links = await ipJson<Array<{ ifname: string }>>(node, ['link', 'show']);
    assert.deepEqual(
      links.filter((l) => l.ifname.startsWith('cali')),
      [],
      `no cali link left in ${node}`,
    );
  }
});
