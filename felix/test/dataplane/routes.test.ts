import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMessages, emptyDesiredState } from '../../src/dataplane/desired-state.js';
import { desiredRoutes, externalRoutes, parseKernelRoutes, routeBatch } from '../../src/dataplane/routes.js';
import { desiredSysctls, parseSysctlOutput, sysctlWrites } from '../../src/dataplane/sysctls.js';

function state() {
  const s = emptyDesiredState();
  applyMessages(s, [
    { kind: 'EncapsulationUpdate', ipipEnabled: false, vxlanEnabled: true, vxlanEnabledV6: false },
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'ns', name: 'a' },
      endpoint: { name: 'cali1', ipv4Nets: ['10.65.0.1/32'], ipv6Nets: ['fd00::1/128'], profileIds: [], tiers: [] },
    },
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'ns', name: 'b' },
      endpoint: { name: 'cali2', ipv4Nets: ['10.65.0.2/32'], ipv6Nets: [], profileIds: [], tiers: [] },
    },
    { kind: 'VXLANTunnelEndpointUpdate', node: 'n2', ipv4Addr: '10.65.1.0', parentDeviceIp: '192.168.0.2', mac: '66:00:00:00:00:02' },
    { kind: 'RouteUpdate', type: 'remote-workload-vxlan', dst: '10.65.1.0/26', dstNodeName: 'n2', dstNodeIp: '192.168.0.2' },
    { kind: 'RouteUpdate', type: 'remote-workload-direct', dst: '10.66.0.0/26', dstNodeName: 'n3', dstNodeIp: '192.168.0.3' },
    { kind: 'RouteUpdate', type: 'remote-workload-vxlan', dst: '10.65.9.0/26', dstNodeName: 'no-vtep', dstNodeIp: '192.168.0.9' },
    { kind: 'InSync' },
  ]);
  return s;
}

test('desired routes: local /32 and /128 per ready interface, VXLAN via the VTEP, direct via the node', () => {
  const routes = desiredRoutes(state(), new Set(['cali1', 'vxlan.calico']));
  assert.deepEqual(routes, [
    { dst: '10.65.0.1/32', dev: 'cali1', endpoint: 'ns/a' },
    { dst: '10.65.1.0/26', via: '10.65.1.0', dev: 'vxlan.calico', onlink: true },
    { dst: '10.66.0.0/26', via: '192.168.0.3' },
    { dst: 'fd00::1/128', dev: 'cali1', endpoint: 'ns/a' },
  ]);
  // Without the VXLAN device there is no VXLAN route.
  assert.ok(!desiredRoutes(state(), new Set(['cali1'])).some((r) => r.dev === 'vxlan.calico'));
});

test('route batch: replace missing or different, delete ours that are no longer wanted, leave equal ones', () => {
  const actual = parseKernelRoutes(
    JSON.stringify([
      { dst: '10.65.0.1', dev: 'cali1', protocol: 80, scope: 'link', flags: [] },
      { dst: '10.65.0.2', dev: 'cali9', scope: 'link', flags: [] },
      { dst: '10.65.7.0/26', gateway: '10.65.7.0', dev: 'vxlan.calico', flags: ['onlink'] },
    ]),
  );
  const desired = desiredRoutes(state(), new Set(['cali1', 'cali2', 'vxlan.calico']));
  assert.deepEqual(routeBatch(desired, actual), [
    'route del 10.65.7.0/26 proto 80 dev vxlan.calico',
    'route replace 10.65.0.2/32 dev cali2 scope link proto 80',
    'route replace 10.65.1.0/26 via 10.65.1.0 dev vxlan.calico onlink proto 80',
    'route replace 10.66.0.0/26 via 192.168.0.3 proto 80',
    'route replace fd00::1/128 dev cali1 scope link proto 80',
  ]);
  assert.deepEqual(
    routeBatch(desired, parseKernelRoutes(JSON.stringify(desired.map((r) => ({ dst: r.dst, dev: r.dev, gateway: r.via, flags: r.onlink ? ['onlink'] : [] }))))),
    [],
  );
  assert.deepEqual(parseKernelRoutes(''), []);
});

test('sysctls per ready workload interface, IPv6 ones only with IPv6 nets, written only when different', () => {
  const desired = desiredSysctls(state(), new Set(['cali1', 'cali2']));
  assert.equal(desired.get('net/ipv4/conf/cali2/proxy_arp'), '1');
  assert.equal(desired.get('net/ipv4/neigh/cali2/proxy_delay'), '0');
  assert.equal(desired.get('net/ipv4/conf/cali2/rp_filter'), '1');
  assert.equal(desired.get('net/ipv6/conf/cali1/accept_ra'), '0');
  assert.equal(desired.has('net/ipv6/conf/cali2/accept_ra'), false);
  assert.equal(desired.get('net/ipv4/ip_forward'), '1');
  const actual = parseSysctlOutput('net.ipv4.ip_forward = 1\nnet.ipv4.conf.cali2.proxy_arp = 0\n');
  const writes = sysctlWrites(desired, actual);
  assert.ok(writes.includes('net/ipv4/conf/cali2/proxy_arp=1'));
  assert.ok(!writes.includes('net/ipv4/ip_forward=1'));
  assert.equal(desiredSysctls(state(), new Set()).size, 0);
});

test('deviceRouteSourceAddress(IPv6) puts a src on local workload routes of its family; a route without it is replaced', () => {
  const s = state();
  applyMessages(s, [
    { kind: 'ConfigUpdate', config: { deviceRouteSourceAddress: '192.168.0.1', deviceRouteSourceAddressIPv6: 'fd00::99' }, clusterInformation: {} },
  ]);
  const routes = desiredRoutes(s, new Set(['cali1']));
  assert.deepEqual(routes, [
    { dst: '10.65.0.1/32', dev: 'cali1', endpoint: 'ns/a', src: '192.168.0.1' },
    { dst: '10.66.0.0/26', via: '192.168.0.3' },
    { dst: 'fd00::1/128', dev: 'cali1', endpoint: 'ns/a', src: 'fd00::99' },
  ]);
  const withoutSrc = parseKernelRoutes(JSON.stringify([{ dst: '10.65.0.1', dev: 'cali1', flags: [] }]));
  assert.ok(routeBatch(routes, withoutSrc).includes('route replace 10.65.0.1/32 dev cali1 scope link src 192.168.0.1 proto 80'));
  const withSrc = parseKernelRoutes(JSON.stringify([{ dst: '10.65.0.1', dev: 'cali1', prefsrc: '192.168.0.1', flags: [] }]));
  assert.ok(!routeBatch(routes, withSrc).some((l) => l.includes('10.65.0.1/32')));
});

test('external routes: others’ routes on workload interfaces; not ours, the kernel’s or other interfaces’', () => {
  const json = JSON.stringify([
    { dst: '10.99.0.0/24', dev: 'cali1', protocol: 'static', scope: 'link', flags: [] },
    { dst: '10.65.0.1', dev: 'cali1', protocol: '80', scope: 'link', flags: [] },
    { dst: 'fe80::/64', dev: 'cali1', protocol: 'kernel', flags: [] },
    { dst: '192.0.2.0/24', dev: 'eth0', protocol: 'static', flags: [] },
    { type: 'broadcast', dst: '10.98.0.255', dev: 'tap1', protocol: 'boot', flags: [] },
    { dst: '10.97.0.1', dev: 'tap1', protocol: 'boot', flags: [] },
  ]);
  assert.deepEqual(externalRoutes(json, ['cali', 'tap']), [
    { dst: '10.99.0.0/24', dev: 'cali1' },
    { dst: '10.97.0.1/32', dev: 'tap1' },
  ]);
  assert.deepEqual(externalRoutes('', ['cali']), []);
});

test('workloadSourceSpoofing Any lets an endpoint with allowSpoofedSourcePrefixes off rp_filter; Disabled (default) does not', () => {
  const spoofer = (config: Record<string, unknown>) => {
    const s = state();
    applyMessages(s, [
      { kind: 'ConfigUpdate', config, clusterInformation: {} },
      {
        kind: 'WorkloadEndpointUpdate',
        id: { namespace: 'ns', name: 'b' },
        endpoint: { name: 'cali2', ipv4Nets: ['10.65.0.2/32'], ipv6Nets: [], profileIds: [], tiers: [], allowSpoofedSourcePrefixes: ['10.99.0.0/24'] },
      },
    ]);
    return desiredSysctls(s, new Set(['cali1', 'cali2']));
  };
  assert.equal(spoofer({}).get('net/ipv4/conf/cali2/rp_filter'), '1');
  assert.equal(spoofer({ workloadSourceSpoofing: 'Disabled' }).get('net/ipv4/conf/cali2/rp_filter'), '1');
  assert.equal(spoofer({ workloadSourceSpoofing: 'Any' }).get('net/ipv4/conf/cali2/rp_filter'), '0');
  assert.equal(spoofer({ workloadSourceSpoofing: 'Any' }).get('net/ipv4/conf/cali1/rp_filter'), '1');
});

test('ipv6Support false: no IPv6 routes or IPv6 sysctls', () => {
  const s = state();
  applyMessages(s, [
    { kind: 'RouteUpdate', type: 'remote-workload-direct', dst: 'fd00:66::/122', dstNodeName: 'n3', dstNodeIp: 'fd00:ff::3' },
    { kind: 'ConfigUpdate', config: { ipv6Support: false }, clusterInformation: {} },
  ]);
  const routes = desiredRoutes(s, new Set(['cali1']));
  assert.deepEqual(
    routes.map((r) => r.dst),
    ['10.65.0.1/32', '10.66.0.0/26'],
  );
  assert.ok(![...desiredSysctls(s, new Set(['cali1'])).keys()].some((k) => k.startsWith('net/ipv6')));
  applyMessages(s, [{ kind: 'ConfigUpdate', config: {}, clusterInformation: {} }]);
  assert.deepEqual(
    desiredRoutes(s, new Set(['cali1'])).map((r) => r.dst),
    ['10.65.0.1/32', '10.66.0.0/26', 'fd00:66::/122', 'fd00::1/128'],
  );
  assert.equal(desiredSysctls(s, new Set(['cali1'])).get('net/ipv6/conf/cali1/proxy_ndp'), '1');
});

test('ipForwarding Disabled leaves the host-wide forwarding sysctls alone; per-interface ones stay', () => {
  const s = state();
  applyMessages(s, [{ kind: 'ConfigUpdate', config: { ipForwarding: 'Disabled' }, clusterInformation: {} }]);
  const desired = desiredSysctls(s, new Set(['cali1']));
  assert.equal(desired.has('net/ipv4/ip_forward'), false);
  assert.equal(desired.has('net/ipv6/conf/all/forwarding'), false);
  assert.equal(desired.get('net/ipv4/conf/cali1/forwarding'), '1');
  assert.equal(desiredSysctls(state(), new Set(['cali1'])).get('net/ipv6/conf/all/forwarding'), '1');
});
