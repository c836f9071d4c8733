import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { CalcGraph } from '../../src/calc/calc-graph.js';
import type { FelixUpdate } from '../../src/calc/decode-util.js';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import { createNetns, deleteNetns, listenTcp, requireNetnsTools, run, tcpConnects, uniquePrefix, wirePod } from '../../src/testing/netns.js';
import { NODE, namespace, np, update, wep } from '../calc/harness.js';

// `services` in policy rules on the real kernel, from the felix syncer's KubernetesService and
// KubernetesEndpointSlice through the calculation graph to nftables. Three pods on one node:
//
//   client 10.65.0.1 ─┐                      ┌─ web 10.65.0.2 (+ 10.96.0.10, standing in for the
//   other  10.65.0.3 ─┴── node (cali<tag>*) ─┘        Service's cluster IP), listening on 80, 8080, 9090
//
// Policy "client-out": the client may only send TCP to Service app/web (its cluster IP with the
// Service port, its endpoints with the slice's target port). Policy "web-in": the web pod only
// accepts traffic from the endpoints of Service app/frontend. Slices then change and the
// dataplane follows.

const IPS = { client: '10.65.0.1', web: '10.65.0.2', other: '10.65.0.3', clusterIP: '10.96.0.10' };

const svc = (name: string, spec: Record<string, unknown>): FelixUpdate => update('KubernetesService', name, spec, undefined, 'app');
const slice = (name: string, service: string, addresses: string[], port: number): FelixUpdate =>
  update(
    'KubernetesEndpointSlice',
    name,
    { serviceName: service, addressType: 'IPv4', endpoints: [{ addresses, ready: true }], ports: [{ protocol: 'TCP', port }] },
    undefined,
    'app',
  );

test('services in rules: destination matches cluster IP and endpoint ports, source matches endpoints; slices changing move the dataplane', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix('csvc');
  const tag = prefix.slice(5);
  const node = `${prefix}-node`;
  const pods = { client: `${prefix}-c`, web: `${prefix}-w`, other: `${prefix}-o` };
  const ifaces = { client: `cali${tag}c`, web: `cali${tag}w`, other: `cali${tag}o` };
  t.after(async () => {
    for (const ns of [node, ...Object.values(pods)]) await deleteNetns(ns);
  });
  for (const ns of [node, ...Object.values(pods)]) await createNetns(ns);
  for (const k of ['client', 'web', 'other'] as const) await wirePod(node, pods[k], ifaces[k], IPS[k]);
  await run('ip', ['-n', pods.web, 'addr', 'add', `${IPS.clusterIP}/32`, 'dev', 'eth0']);
  // An uplink with the default route, so proxy ARP answers for the pods' gateway.
  await run('ip', ['-n', node, 'link', 'add', 'ext0', 'type', 'veth', 'peer', 'name', 'ext1']);
  await run('ip', ['-n', node, 'link', 'set', 'ext1', 'up']);
  await run('ip', ['-n', node, 'link', 'set', 'ext0', 'up']);
  await run('ip', ['-n', node, 'route', 'add', 'default', 'dev', 'ext0']);
  const listeners = await listenTcp(pods.web, [80, 8080, 9090]);
  t.after(() => listeners.close());

  const errors: Error[] = [];
  const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: NODE, clock: new FakeClock(), onError: (e) => errors.push(e) });
  t.after(() => dp.close());
  const graph = new CalcGraph(NODE, dp);
  const apply = async (updates: FelixUpdate[]): Promise<void> => {
    graph.onUpdates(updates);
    const r = await dp.apply();
    assert.deepEqual(r.errors, []);
  };
  const connects = (from: keyof typeof pods, host: string, port: number) => tcpConnects(pods[from], host, port);

  graph.onUpdates([
    namespace('app'),
    wep('app', 'client', { ips: [IPS.client], iface: ifaces.client, labels: { app: 'client' } }),
    wep('app', 'web', { ips: [IPS.web, IPS.clusterIP], iface: ifaces.web, labels: { app: 'web' } }),
    wep('app', 'other', { ips: [IPS.other], iface: ifaces.other, labels: { app: 'other' } }),
    svc('web', { clusterIPs: [IPS.clusterIP], ports: [{ protocol: 'TCP', port: 80 }] }),
    slice('web-1', 'web', [IPS.web], 8080),
    svc('frontend', { clusterIPs: ['10.96.0.20'], ports: [{ protocol: 'TCP', port: 80 }] }),
    slice('frontend-1', 'frontend', [IPS.client], 8080),
    np('app', 'client-out', {
      selector: "app == 'client'",
      types: ['Egress'],
      egress: [{ action: 'Allow', protocol: 'TCP', destination: { services: { name: 'web' } } }],
    }),
    np('app', 'web-in', { selector: "app == 'web'", types: ['Ingress'], ingress: [{ action: 'Allow', source: { services: { name: 'frontend' } } }] }),
  ]);
  graph.onInSync();
  assert.deepEqual((await dp.apply()).errors, []);

  assert.equal(await connects('client', IPS.web, 8080), true, 'client → web endpoint on the slice port');
  assert.equal(await connects('client', IPS.clusterIP, 80), true, 'client → cluster IP on the Service port');
  assert.equal(await connects('client', IPS.web, 9090), false, 'client → web on a port the Service does not have');
  assert.equal(await connects('client', IPS.clusterIP, 8080), false, 'client → cluster IP on the target port');
  assert.equal(await connects('other', IPS.web, 8080), false, 'other is no endpoint of frontend');

  // The web slice now targets 9090: the endpoint match moves with it.
  await apply([slice('web-1', 'web', [IPS.web], 9090)]);
  assert.equal(await connects('client', IPS.web, 9090), true, 'client → web on the new slice port');
  assert.equal(await connects('client', IPS.web, 8080), false, 'client → web on the old slice port');

  // frontend's endpoints move from the client to the other pod: the source match follows.
  await apply([slice('frontend-1', 'frontend', [IPS.other], 8080)]);
  assert.equal(await connects('other', IPS.web, 8080), true, 'other is now an endpoint of frontend');
  assert.equal(await connects('client', IPS.web, 9090), false, 'client is no longer an endpoint of frontend');
  assert.deepEqual(errors, []);
});
