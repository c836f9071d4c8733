import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLinkEvent } from '../../src/dataplane/link-monitor.js';

// The lines `ip -o monitor link` prints (iproute2 6.1); the real child runs in
// test/integration/dataplane-link-monitor.test.ts.

test('an ip -o monitor link line names its link; other lines name none', () => {
  assert.deepEqual(
    parseLinkEvent(
      '30: cali1a2b@if2: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default \\    link/ether b6:14:a3:2b:25:35 brd ff:ff:ff:ff:ff:ff',
    ),
    { name: 'cali1a2b', deleted: false },
  );
  assert.deepEqual(parseLinkEvent('Deleted 30: ffxm0@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default'), {
    name: 'ffxm0',
    deleted: true,
  });
  assert.deepEqual(parseLinkEvent('2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP'), { name: 'eth0', deleted: false });
  assert.equal(parseLinkEvent(''), undefined);
  assert.equal(parseLinkEvent('    link/ether b6:14:a3:2b:25:35 brd ff:ff:ff:ff:ff:ff'), undefined);
});
