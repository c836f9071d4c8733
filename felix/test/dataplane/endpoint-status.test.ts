import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyDesiredState } from '../../src/dataplane/desired-state.js';
import { endpointStatusReport, linkOperUp } from '../../src/dataplane/endpoint-status.js';
import type { HostEndpoint, WorkloadEndpoint } from '../../src/proto/messages.js';

function workload(name: string): WorkloadEndpoint {
  return { name, ipv4Nets: [], ipv6Nets: [], profileIds: [], tiers: [] };
}

function hep(name: string | undefined): HostEndpoint {
  return {
    ...(name !== undefined ? { name } : {}),
    expectedIpv4Addrs: ['10.0.0.1'],
    expectedIpv6Addrs: [],
    profileIds: [],
    tiers: [],
    untrackedTiers: [],
    preDnatTiers: [],
    forwardTiers: [],
  };
}

test('oper-up needs UP and LOWER_UP', () => {
  assert.equal(linkOperUp({ flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'] }), true);
  assert.equal(linkOperUp({ flags: ['BROADCAST', 'MULTICAST', 'UP'] }), false, 'no carrier (peer down)');
  assert.equal(linkOperUp({ flags: ['BROADCAST', 'MULTICAST'] }), false);
  assert.equal(linkOperUp({}), false);
});

test('workloads: up when the interface is oper-up, down otherwise; host endpoints: * up, named up/down/error, expectedIPs only not reported', () => {
  const state = emptyDesiredState();
  state.workloads.set('default/a', { id: { namespace: 'default', name: 'a' }, endpoint: workload('calia') });
  state.workloads.set('default/b', { id: { namespace: 'default', name: 'b' }, endpoint: workload('calib') });
  state.workloads.set('default/c', { id: { namespace: 'default', name: 'c' }, endpoint: workload('calic') });
  state.hostEndpoints.set('all', hep('*'));
  state.hostEndpoints.set('eth0', hep('eth0'));
  state.hostEndpoints.set('eth1', hep('eth1'));
  state.hostEndpoints.set('eth9', hep('eth9'));
  state.hostEndpoints.set('by-ip', hep(undefined));
  const links = [
    { ifname: 'calia', flags: ['UP', 'LOWER_UP'] },
    { ifname: 'calib', flags: ['UP'] },
    { ifname: 'eth0', flags: ['UP', 'LOWER_UP'] },
    { ifname: 'eth1', flags: [] },
  ];
  const r = endpointStatusReport(state, links);
  assert.deepEqual(Object.fromEntries(r.workloads), { 'default/a': 'up', 'default/b': 'down', 'default/c': 'down' });
  assert.deepEqual(Object.fromEntries(r.hostEndpoints), { all: 'up', eth0: 'up', eth1: 'down', eth9: 'error' });
  const failed = endpointStatusReport(state, links, true);
  assert.deepEqual(Object.fromEntries(failed.workloads), { 'default/a': 'error', 'default/b': 'down', 'default/c': 'down' }, 'a failed apply: error');
  assert.deepEqual(Object.fromEntries(failed.hostEndpoints), { all: 'error', eth0: 'error', eth1: 'down', eth9: 'error' });
  const dry = endpointStatusReport(state, undefined);
  assert.deepEqual([...dry.workloads.values()], ['up', 'up', 'up'], 'dry-run: every interface assumed up');
});
