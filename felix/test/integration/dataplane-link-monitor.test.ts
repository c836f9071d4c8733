import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '@cattail/datastore/testing';
import type { EndpointOperStatus, EndpointStatusReport } from '../../src/dataplane/endpoint-status.js';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { LinkMonitor } from '../../src/dataplane/link-monitor.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { WorkloadEndpoint } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, requireNetnsTools, run, uniquePrefix, wirePod } from '../../src/testing/netns.js';

// The link monitor on the real kernel: a LinuxDataplane in a "node" namespace with one veth pod,
// its drift refresh an hour away and nothing else due (no endpoint error, so no retry), so only
// the monitor's events can make it re-read the links. The pod's end of the veth goes down (the
// node's end loses carrier), up again, the monitor child is killed (it is restarted), and the
// node's end is deleted; the reported status must follow each change. The bounds are the
// poll's (10 s, for a loaded machine); without the monitor the next report is an hour away.

const HOUR = 3_600_000;

function endpoint(iface: string, ip: string): WorkloadEndpoint {
  return { name: iface, ipv4Nets: [`${ip}/32`], ipv6Nets: [], profileIds: [], tiers: [] };
}

test('a workload interface going down, up or away is reported at once through the link monitor, which survives its child dying', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix();
  const tag = prefix.slice(4);
  const node = `${prefix}-node`;
  const pod = `${prefix}-a`;
  const iface = `cali${tag}a`;
  const monitorErrors: Error[] = [];
  const monitor = new LinkMonitor({ netns: node, restartMs: 50, onError: (e) => monitorErrors.push(e) });
  let latest: EndpointStatusReport | undefined;
  let reports = 0;
  const errors: Error[] = [];
  const dp = new LinuxDataplane({
    exec: inNetns(processExec(), node),
    nodeName: 'node1',
    debounceMs: 10,
    refreshIntervalMs: HOUR,
    retryMs: HOUR,
    mtuFile: '',
    linkEvents: monitor,
    onError: (e) => errors.push(e),
    onEndpointStatus: (r) => {
      latest = r;
      reports++;
    },
  });
  t.after(async () => {
    dp.close();
    for (const ns of [node, pod]) await deleteNetns(ns);
  });
  await createNetns(node);
  await createNetns(pod);
  await wirePod(node, pod, iface, '10.66.0.1');

  dp.onMessages([{ kind: 'WorkloadEndpointUpdate', id: { namespace: 'default', name: 'a' }, endpoint: endpoint(iface, '10.66.0.1') }, { kind: 'InSync' }]);
  dp.start();
  const statusIs = async (want: EndpointOperStatus, what: string): Promise<void> => {
    await until(
      () => latest?.workloads.get('default/a') === want,
      () =>
        `${what}: want ${want}, last report ${JSON.stringify(latest && [...latest.workloads])} (${reports} reports, errors ${errors.map((e) => e.message).join('; ')})`,
      10_000,
      20,
    );
  };
  await statusIs('up', 'after the first apply');
  assert.ok(monitor.pid !== undefined, 'the monitor child runs');

  await run('ip', ['-n', pod, 'link', 'set', 'eth0', 'down']);
  await statusIs('down', "the pod's end went down (no carrier on the node's end)");
  await run('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
  await statusIs('up', "the pod's end came back up");

  // The child dies: an error is reported, and a new child watches on.
  const first = monitor.pid;
  process.kill(first, 'SIGKILL');
  await until(() => monitor.starts === 2 && monitor.pid !== undefined && monitor.pid !== first, 'the monitor child restarted', 10_000, 20);
  assert.ok(monitorErrors.length >= 1, 'the dead child was reported');
  await run('ip', ['-n', node, 'link', 'set', iface, 'down']);
  await statusIs('down', 'the node end set down, seen by the restarted child');

  await run('ip', ['-n', node, 'link', 'del', iface]);
  await run('ip', ['-n', pod, 'link', 'show']); // the peer went with it
  await run('ip', ['-n', node, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
  await run('ip', ['-n', node, 'link', 'set', iface, 'up']);
  await run('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
  await statusIs('up', 'the interface deleted and made again');
  await run('ip', ['-n', node, 'link', 'del', iface]);
  await statusIs('down', 'the interface deleted');

  const pid = monitor.pid;
  dp.close();
  await until(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    'the monitor child ends with the dataplane',
    10_000,
    20,
  );
});
