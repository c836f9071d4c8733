import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMessages, emptyDesiredState } from '../../src/dataplane/desired-state.js';
import { desiredVxlan, parseVxlanLink, vxlanCommands } from '../../src/dataplane/vxlan.js';

function state(vxlanEnabled = true) {
  const s = emptyDesiredState();
  applyMessages(s, [
    { kind: 'EncapsulationUpdate', ipipEnabled: false, vxlanEnabled, vxlanEnabledV6: false },
    { kind: 'VXLANTunnelEndpointUpdate', node: 'n1', ipv4Addr: '10.65.0.0', parentDeviceIp: '192.168.0.1', mac: '66:00:00:00:00:01' },
    { kind: 'VXLANTunnelEndpointUpdate', node: 'n2', ipv4Addr: '10.65.1.0', parentDeviceIp: '192.168.0.2', mac: '66:00:00:00:00:02' },
  ]);
  return s;
}

test('a missing device is created with vni 4096, port 4789, learning off, and peers are added', () => {
  const cmds = vxlanCommands(desiredVxlan(state(), 'n1'), { addresses: [], neighbours: [], fdb: [] });
  assert.deepEqual(cmds.ip, [
    'link add vxlan.calico address 66:00:00:00:00:01 type vxlan id 4096 dstport 4789 local 192.168.0.1 nolearning',
    'addr replace 10.65.0.0/32 dev vxlan.calico',
    'link set vxlan.calico up',
    'neigh replace 10.65.1.0 lladdr 66:00:00:00:00:02 dev vxlan.calico nud permanent',
  ]);
  assert.deepEqual(cmds.bridge, ['fdb replace 66:00:00:00:00:02 dev vxlan.calico dst 192.168.0.2 self permanent']);
});

test('a correct device with correct peers needs nothing; stale peers are removed; a wrong device is recreated', () => {
  const link = parseVxlanLink([
    {
      ifname: 'vxlan.calico',
      flags: ['UP'],
      address: '66:00:00:00:00:01',
      linkinfo: { info_data: { id: 4096, port: 4789, local: '192.168.0.1', learning: false } },
    },
  ]);
  const ok = {
    device: link,
    addresses: ['10.65.0.0/32'],
    neighbours: [{ ip: '10.65.1.0', mac: '66:00:00:00:00:02' }],
    fdb: [{ mac: '66:00:00:00:00:02', dst: '192.168.0.2' }],
  };
  assert.deepEqual(vxlanCommands(desiredVxlan(state(), 'n1'), ok), { ip: [], bridge: [] });
  const stale = {
    ...ok,
    neighbours: [...ok.neighbours, { ip: '10.65.5.0', mac: '66:00:00:00:00:05' }],
    fdb: [...ok.fdb, { mac: '66:00:00:00:00:05', dst: '192.168.0.5' }],
  };
  assert.deepEqual(vxlanCommands(desiredVxlan(state(), 'n1'), stale), {
    ip: ['neigh del 10.65.5.0 dev vxlan.calico'],
    bridge: ['fdb del 66:00:00:00:00:05 dev vxlan.calico dst 192.168.0.5 self'],
  });
  const wrong = { ...ok, device: { ...link!, vni: 1 } };
  assert.equal(vxlanCommands(desiredVxlan(state(), 'n1'), wrong).ip[0], 'link del vxlan.calico');
});

test('VXLAN disabled: the device is removed if present', () => {
  const link = parseVxlanLink([{ ifname: 'vxlan.calico', flags: [] }]);
  assert.deepEqual(vxlanCommands(desiredVxlan(state(false), 'n1'), { device: link, addresses: [], neighbours: [], fdb: [] }).ip, ['link del vxlan.calico']);
  assert.deepEqual(vxlanCommands(desiredVxlan(state(false), 'n1'), { addresses: [], neighbours: [], fdb: [] }).ip, []);
});

test('the device gets the VXLAN MTU when it is created, and a changed MTU is set in place', () => {
  const created = vxlanCommands(desiredVxlan(state(), 'n1', 1450), { addresses: [], neighbours: [], fdb: [] });
  assert.equal(created.ip[0], 'link add vxlan.calico address 66:00:00:00:00:01 mtu 1450 type vxlan id 4096 dstport 4789 local 192.168.0.1 nolearning');
  const link = parseVxlanLink([
    {
      ifname: 'vxlan.calico',
      mtu: 1450,
      flags: ['UP'],
      address: '66:00:00:00:00:01',
      linkinfo: { info_data: { id: 4096, port: 4789, local: '192.168.0.1', learning: false } },
    },
  ]);
  const actual = {
    device: link,
    addresses: ['10.65.0.0/32'],
    neighbours: [{ ip: '10.65.1.0', mac: '66:00:00:00:00:02' }],
    fdb: [{ mac: '66:00:00:00:00:02', dst: '192.168.0.2' }],
  };
  assert.deepEqual(vxlanCommands(desiredVxlan(state(), 'n1', 1450), actual).ip, []);
  assert.deepEqual(vxlanCommands(desiredVxlan(state(), 'n1', 1400), actual).ip, ['link set vxlan.calico mtu 1400']);
  // Unknown MTU (no uplink found): the device's MTU is left alone.
  assert.deepEqual(vxlanCommands(desiredVxlan(state(), 'n1'), actual).ip, []);
});

test('FelixConfiguration vxlanVNI and vxlanPort make the device; a device with the old ones is recreated', () => {
  const s = state();
  applyMessages(s, [{ kind: 'ConfigUpdate', config: { vxlanVNI: 5000, vxlanPort: 8472 }, clusterInformation: {} }]);
  const desired = desiredVxlan(s, 'n1');
  assert.equal(
    vxlanCommands(desired, { addresses: [], neighbours: [], fdb: [] }).ip[0],
    'link add vxlan.calico address 66:00:00:00:00:01 type vxlan id 5000 dstport 8472 local 192.168.0.1 nolearning',
  );
  const old = parseVxlanLink([
    {
      ifname: 'vxlan.calico',
      flags: ['UP'],
      address: '66:00:00:00:00:01',
      linkinfo: { info_data: { id: 4096, port: 4789, local: '192.168.0.1', learning: false } },
    },
  ]);
  assert.deepEqual(vxlanCommands(desired, { device: old, addresses: ['10.65.0.0/32'], neighbours: [], fdb: [] }).ip.slice(0, 2), [
    'link del vxlan.calico',
    'link add vxlan.calico address 66:00:00:00:00:01 type vxlan id 5000 dstport 8472 local 192.168.0.1 nolearning',
  ]);
});

test('FelixConfiguration vxlanEnabled overrides the pools either way; unset, the pools decide', () => {
  const forcedOff = state(true);
  applyMessages(forcedOff, [{ kind: 'ConfigUpdate', config: { vxlanEnabled: false }, clusterInformation: {} }]);
  assert.equal(desiredVxlan(forcedOff, 'n1').device, undefined);
  const forcedOn = state(false);
  applyMessages(forcedOn, [{ kind: 'ConfigUpdate', config: { vxlanEnabled: true }, clusterInformation: {} }]);
  assert.equal(desiredVxlan(forcedOn, 'n1').device?.vni, 4096);
  assert.equal(desiredVxlan(state(false), 'n1').device, undefined);
});

test('IPv6 VXLAN: vxlan-v6.calico with the v6 VTEP (/128, no DAD), peers and local address; enabled by v6 pools or vxlanEnabledV6', () => {
  const s = emptyDesiredState();
  applyMessages(s, [
    { kind: 'EncapsulationUpdate', ipipEnabled: false, vxlanEnabled: false, vxlanEnabledV6: true },
    { kind: 'VXLANTunnelEndpointUpdate', node: 'n1', ipv6Addr: 'fd00:65::1', parentDeviceIpv6: 'fd00:78::1', macV6: '66:00:00:00:06:01' },
    { kind: 'VXLANTunnelEndpointUpdate', node: 'n2', ipv6Addr: 'fd00:65::41', parentDeviceIpv6: 'fd00:78::2', macV6: '66:00:00:00:06:02' },
  ]);
  assert.equal(desiredVxlan(s, 'n1').device, undefined, 'no IPv4 VTEP, IPv4 VXLAN off: no vxlan.calico');
  const v6 = desiredVxlan(s, 'n1', 1330, 6);
  assert.equal(v6.name, 'vxlan-v6.calico');
  const cmds = vxlanCommands(v6, { addresses: [], neighbours: [], fdb: [] });
  assert.deepEqual(cmds.ip, [
    'link add vxlan-v6.calico address 66:00:00:00:06:01 mtu 1330 type vxlan id 4096 dstport 4789 local fd00:78::1 nolearning',
    'addr replace fd00:65::1/128 dev vxlan-v6.calico nodad',
    'link set vxlan-v6.calico up',
    'neigh replace fd00:65::41 lladdr 66:00:00:00:06:02 dev vxlan-v6.calico nud permanent',
  ]);
  assert.deepEqual(cmds.bridge, ['fdb replace 66:00:00:00:06:02 dev vxlan-v6.calico dst fd00:78::2 self permanent']);
  // The kernel's JSON names an IPv6 local address `local6`; read back, nothing is to do.
  const device = parseVxlanLink(
    [
      {
        ifname: 'vxlan-v6.calico',
        flags: ['UP'],
        mtu: 1330,
        address: '66:00:00:00:06:01',
        linkinfo: { info_data: { id: 4096, port: 4789, local6: 'fd00:78::1', learning: false } },
      },
    ],
    'vxlan-v6.calico',
  );
  assert.equal(device?.local, 'fd00:78::1');
  const again = vxlanCommands(v6, {
    device,
    addresses: ['fe80::1/64', 'fd00:65::1/128'],
    neighbours: [{ ip: 'fd00:65::41', mac: '66:00:00:00:06:02' }],
    fdb: [{ mac: '66:00:00:00:06:02', dst: 'fd00:78::2' }],
  });
  assert.deepEqual(again, { ip: [], bridge: [] });
  // vxlanEnabledV6 false forces it off (the device goes); true forces it on without v6 pools.
  s.config = { vxlanEnabledV6: false };
  assert.deepEqual(vxlanCommands(desiredVxlan(s, 'n1', 1330, 6), { device, addresses: [], neighbours: [], fdb: [] }).ip, ['link del vxlan-v6.calico']);
  s.config = { vxlanEnabledV6: true };
  s.encapsulation = { ipipEnabled: false, vxlanEnabled: false, vxlanEnabledV6: false };
  assert.ok(desiredVxlan(s, 'n1', undefined, 6).device);
});
