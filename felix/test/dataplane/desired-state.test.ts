import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMessages, emptyDesiredState, policyKey } from '../../src/dataplane/desired-state.js';

test('IP set updates replace, deltas add and remove, removes delete', () => {
  const s = emptyDesiredState();
  assert.equal(applyMessages(s, [{ kind: 'IPSetUpdate', id: 's:1', type: 'net', members: ['10.0.0.1/32', '10.0.0.2/32'] }]), true);
  applyMessages(s, [{ kind: 'IPSetDeltaUpdate', id: 's:1', added: ['10.0.0.3/32'], removed: ['10.0.0.1/32'] }]);
  assert.deepEqual([...s.ipSets.get('s:1')!.members].sort(), ['10.0.0.2/32', '10.0.0.3/32']);
  applyMessages(s, [{ kind: 'IPSetUpdate', id: 's:1', type: 'net', members: ['10.9.0.0/16'] }]);
  assert.deepEqual([...s.ipSets.get('s:1')!.members], ['10.9.0.0/16']);
  assert.equal(applyMessages(s, [{ kind: 'IPSetDeltaUpdate', id: 's:unknown', added: ['1.1.1.1/32'], removed: [] }]), false);
  applyMessages(s, [{ kind: 'IPSetRemove', id: 's:1' }]);
  assert.equal(s.ipSets.size, 0);
});

test('policies are keyed by tier, namespace and name; endpoints by namespace/name', () => {
  const s = emptyDesiredState();
  const global = { tier: 't', name: 'p' };
  const namespaced = { tier: 't', name: 'p', namespace: 'ns' };
  applyMessages(s, [
    { kind: 'ActivePolicyUpdate', id: global, policy: { inboundRules: [], outboundRules: [] } },
    { kind: 'ActivePolicyUpdate', id: namespaced, policy: { namespace: 'ns', inboundRules: [], outboundRules: [] } },
    { kind: 'WorkloadEndpointUpdate', id: { namespace: 'ns', name: 'w' }, endpoint: { name: 'cali1', ipv4Nets: [], ipv6Nets: [], profileIds: [], tiers: [] } },
  ]);
  assert.deepEqual([...s.policies.keys()].sort(), ['t//p', 't/ns/p']);
  assert.equal(policyKey(namespaced), 't/ns/p');
  applyMessages(s, [
    { kind: 'ActivePolicyRemove', id: global },
    { kind: 'WorkloadEndpointRemove', id: { namespace: 'ns', name: 'w' } },
  ]);
  assert.deepEqual([...s.policies.keys()], ['t/ns/p']);
  assert.equal(s.workloads.size, 0);
});

test('routes, VTEPs, encapsulation, config and InSync are recorded; a repeated InSync changes nothing', () => {
  const s = emptyDesiredState();
  applyMessages(s, [
    { kind: 'ConfigUpdate', config: { LogPrefix: 'x' }, clusterInformation: {} },
    { kind: 'EncapsulationUpdate', ipipEnabled: false, vxlanEnabled: true, vxlanEnabledV6: false },
    { kind: 'VXLANTunnelEndpointUpdate', node: 'n2', ipv4Addr: '10.65.1.0', parentDeviceIp: '192.168.0.2', mac: '66:00:00:00:00:02' },
    { kind: 'RouteUpdate', type: 'remote-workload-vxlan', dst: '10.65.1.0/26', dstNodeName: 'n2', dstNodeIp: '192.168.0.2' },
    { kind: 'InSync' },
  ]);
  assert.equal(s.inSync, true);
  assert.equal(s.config.LogPrefix, 'x');
  assert.equal(s.encapsulation.vxlanEnabled, true);
  assert.equal(s.routes.get('10.65.1.0/26')?.dstNodeName, 'n2');
  assert.equal(applyMessages(s, [{ kind: 'InSync' }]), false);
  applyMessages(s, [
    { kind: 'RouteRemove', dst: '10.65.1.0/26' },
    { kind: 'VXLANTunnelEndpointRemove', node: 'n2' },
  ]);
  assert.equal(s.routes.size + s.vteps.size, 0);
});
