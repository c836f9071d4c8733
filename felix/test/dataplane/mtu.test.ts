import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMtu } from '../../src/dataplane/mtu.js';

const link = (ifname: string, mtu: number) => ({ ifname, mtu });
const LINKS = [link('lo', 65536), link('eth0', 1500), link('ens5', 9001), link('cali1234', 1500), link('vxlan.calico', 1450), link('docker0', 1400)];

test('pod MTU: the smallest uplink matching the pattern, less 50 with VXLAN', () => {
  assert.deepEqual(planMtu(LINKS, {}, false, ['cali']), { hostMtu: 1500, podMtu: 1500 });
  assert.deepEqual(planMtu(LINKS, {}, true, ['cali']), { hostMtu: 1500, vxlanMtu: 1450, podMtu: 1450 });
  // Only ens5 matches this pattern; lo, docker0 and our own devices never count.
  assert.deepEqual(planMtu(LINKS, { mtuIfacePattern: '^ens' }, true, ['cali']), { hostMtu: 9001, vxlanMtu: 8951, podMtu: 8951 });
  assert.deepEqual(planMtu([...LINKS, link('calix', 1000)], { mtuIfacePattern: '.*' }, false, ['cali']).hostMtu, 1400);
});

test('vxlanMTU from FelixConfiguration wins; nothing is planned without an uplink', () => {
  assert.deepEqual(planMtu(LINKS, { vxlanMTU: 1380 }, true, ['cali']), { hostMtu: 1500, vxlanMtu: 1380, podMtu: 1380 });
  assert.deepEqual(planMtu(LINKS, { vxlanMTU: 1380 }, false, ['cali']), { hostMtu: 1500, podMtu: 1500 });
  assert.deepEqual(planMtu([link('lo', 65536), link('cali1', 1500)], {}, true, ['cali']), {});
  assert.deepEqual(planMtu([link('lo', 65536)], { vxlanMTU: 1400 }, true, ['cali']), { vxlanMtu: 1400, podMtu: 1400 });
});

test('a pattern that is not a regular expression falls back to the default', () => {
  assert.equal(planMtu(LINKS, { mtuIfacePattern: '([' }, false, ['cali']).hostMtu, 1500);
});

test('IPv6 VXLAN: 70 bytes of overhead or vxlanMTUV6; pods get the smallest MTU of the tunnels in use', () => {
  const links = [{ ifname: 'eth0', mtu: 1500 }];
  assert.deepEqual(planMtu(links, {}, false, ['cali'], true), { hostMtu: 1500, vxlanMtuV6: 1430, podMtu: 1430 });
  assert.deepEqual(planMtu(links, {}, true, ['cali'], true), { hostMtu: 1500, vxlanMtu: 1450, vxlanMtuV6: 1430, podMtu: 1430 });
  assert.deepEqual(planMtu(links, { vxlanMTUV6: 1460 }, true, ['cali'], true), { hostMtu: 1500, vxlanMtu: 1450, vxlanMtuV6: 1460, podMtu: 1450 });
  assert.deepEqual(planMtu([...links, { ifname: 'vxlan-v6.calico', mtu: 1000 }], {}, false, ['cali'], true).hostMtu, 1500, 'our own device is not an uplink');
});
