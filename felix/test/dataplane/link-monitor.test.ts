import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { until } from '@cattail/datastore/testing';
import { FakeClock } from '@cattail/typha/testing';
import { DataplaneCommandError } from '../../src/dataplane/errors.js';
import { LinkMonitor, parseLinkEvent } from '../../src/dataplane/link-monitor.js';

// The lines `ip -o monitor link` prints (iproute2 6.1), and the restart of a child that cannot
// start (a fake clock: no real wait); the real child runs, dies and is restarted in
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

test('a monitor whose child cannot start reports it, asks for a re-read, and retries after restartMs; close stops it', async () => {
  const clock = new FakeClock();
  const errors: Error[] = [];
  const events: Array<string | undefined> = [];
  const monitor = new LinkMonitor({
    timers: clock,
    restartMs: 1_000,
    spawn: (_file, args) => spawn('/nonexistent/ip', [...args], { stdio: ['pipe', 'pipe', 'pipe'] }),
    onError: (e) => errors.push(e),
  });
  monitor.start((name) => events.push(name));
  assert.deepEqual(events, [undefined], 'a (re)start asks for a re-read');
  await until(() => errors.length === 1, 'the failed start is reported', 10_000, 5);
  assert.ok(errors[0] instanceof DataplaneCommandError);
  assert.match(errors[0].message, /ip -o monitor link failed: could not run/);
  assert.equal(clock.pending, 1, 'a restart is scheduled');
  clock.advance(999);
  assert.equal(monitor.starts, 1);
  clock.advance(1);
  assert.equal(monitor.starts, 2, 'restarted after restartMs');
  await until(() => errors.length === 2, 'the second failure is reported', 10_000, 5);
  monitor.close();
  assert.equal(clock.pending, 0, 'close cancels the pending restart');
});
