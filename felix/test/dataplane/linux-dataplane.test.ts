import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataplaneCommandError } from '../../src/dataplane/errors.js';
import type { Exec } from '../../src/dataplane/exec.js';
import { LinuxDataplane, type DataplaneTimers } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';

// The driver's scheduling and error handling against a fake kernel (the real one is exercised
// by test/integration/dataplane-linux.test.ts).

/** Timers that fire only when the test says: `fire()` runs the oldest; `pending` may be cleared. */
function fakeTimers() {
  const pending: Array<{ fn: () => void; ms: number; id: number }> = [];
  let next = 0;
  const clock: DataplaneTimers = {
    setTimeout: (fn, ms, arg) => {
      const t = { fn: () => fn(arg), ms, id: next++ };
      pending.push(t);
      return t.id;
    },
    clearTimeout: (id) => {
      const i = pending.findIndex((t) => t.id === id);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  const fire = (): void => {
    const t = pending.shift();
    assert.ok(t, 'no timer pending');
    t.fn();
  };
  return { clock, pending, fire };
}

function fakeKernel(links: string[]) {
  const calls: string[] = [];
  let table = '';
  let failNft = false;
  const exec: Exec = async (file, args, input) => {
    const cmd = [file, ...args].join(' ');
    calls.push(cmd);
    if (cmd === 'ip -json -d link show') return { stdout: JSON.stringify(links.map((ifname) => ({ ifname, flags: ['UP'] }))), stderr: '' };
    if (cmd === 'nft list table inet cattail') {
      if (table === '') throw new DataplaneCommandError([file, ...args], 'Error: No such file or directory');
      return { stdout: table, stderr: '' };
    }
    if (cmd === 'nft -f -') {
      if (failNft) throw new DataplaneCommandError([file, ...args], 'Error: syntax error');
      table = `listing of ${input?.length ?? 0} bytes`;
    }
    return { stdout: '', stderr: '' };
  };
  return {
    exec,
    calls,
    setFailNft: (v: boolean) => {
      failNft = v;
    },
    dropTable: () => {
      table = '';
    },
  };
}

const endpoint = (name: string, iface: string): DataplaneMessage => ({
  kind: 'WorkloadEndpointUpdate',
  id: { namespace: 'ns', name },
  endpoint: { name: iface, ipv4Nets: ['10.65.0.1/32'], ipv6Nets: [], profileIds: [], tiers: [] },
});

test('nothing is programmed before InSync; then one debounced apply for several batches', async () => {
  const { clock, pending, fire } = fakeTimers();
  const kernel = fakeKernel(['cali1']);
  const dp = new LinuxDataplane({ exec: kernel.exec, nodeName: 'n1', clock, debounceMs: 25 });
  dp.onMessages([endpoint('a', 'cali1')]);
  assert.equal(pending.length, 1);
  const early = await dp.apply();
  assert.equal(kernel.calls.length, 0);
  assert.equal(early.nftApplied, false);
  dp.onMessages([{ kind: 'InSync' }]);
  dp.onMessages([endpoint('a', 'cali1')]);
  assert.deepEqual(
    pending.map((t) => t.ms),
    [25],
  );
  fire();
  const report = await dp.apply();
  assert.ok(kernel.calls.includes('nft -f -'));
  assert.ok(kernel.calls.includes('ip -force -batch -'));
  assert.equal(report.nftApplied, false, 'the second apply found nothing to change');
  assert.deepEqual(dp.status().get('ns/a'), { state: 'ok' });
});

test('a route clean-up waiting out its grace never holds back an apply that is due sooner', async () => {
  const { clock, pending } = fakeTimers();
  const kernel = fakeKernel(['cali1']);
  // The CNI plugin's route on the new workload interface: someone else's until the grace is over.
  const exec: Exec = async (file, args, input) =>
    [file, ...args].join(' ') === 'ip -json -4 route show table main'
      ? { stdout: JSON.stringify([{ dst: '10.65.0.1', dev: 'cali1', protocol: 'boot', scope: 'link' }]), stderr: '' }
      : kernel.exec(file, args, input);
  const dp = new LinuxDataplane({ exec, nodeName: 'n1', clock, debounceMs: 25, now: () => 1_000_000, routeCleanupGraceMs: 10_000 });
  dp.onMessages([endpoint('a', 'cali1'), { kind: 'InSync' }]);
  pending.length = 0;
  await dp.apply();
  assert.deepEqual(
    pending.map((t) => t.ms),
    [10_000],
    'the clean-up apply waits for the grace',
  );
  dp.onMessages([endpoint('b', 'cali1')]);
  assert.deepEqual(
    pending.map((t) => t.ms),
    [25],
    'a change is applied after the debounce, not after the grace',
  );
});

test('a missing interface is an error for that endpoint only, retried after retryMs', async () => {
  const { clock, pending } = fakeTimers();
  const kernel = fakeKernel(['cali1']);
  const dp = new LinuxDataplane({ exec: kernel.exec, nodeName: 'n1', clock, retryMs: 700 });
  dp.onMessages([endpoint('a', 'cali1'), endpoint('b', 'cali2'), { kind: 'InSync' }]);
  pending.length = 0;
  const report = await dp.apply();
  assert.deepEqual(report.errors, []);
  assert.deepEqual(dp.status().get('ns/a'), { state: 'ok' });
  const b = dp.status().get('ns/b');
  assert.equal(b?.state, 'error');
  assert.equal(b?.state === 'error' ? (b.error as { code?: string }).code : '', 'FELIX_ENDPOINT_NOT_READY');
  assert.deepEqual(
    pending.map((t) => t.ms),
    [700],
  );
});

test('a failing nft transaction is reported, does not stop routes, and is retried', async () => {
  const { clock, pending } = fakeTimers();
  const kernel = fakeKernel(['cali1']);
  const seen: Error[] = [];
  const dp = new LinuxDataplane({ exec: kernel.exec, nodeName: 'n1', clock, retryMs: 500, onError: (e) => seen.push(e) });
  dp.onMessages([endpoint('a', 'cali1'), { kind: 'InSync' }]);
  pending.length = 0;
  kernel.setFailNft(true);
  const report = await dp.apply();
  assert.equal(report.errors.length, 1);
  assert.equal((report.errors[0] as DataplaneCommandError).code, 'FELIX_DATAPLANE_COMMAND');
  assert.deepEqual(seen, report.errors);
  assert.ok(kernel.calls.includes('ip -force -batch -'));
  assert.deepEqual(
    pending.map((t) => t.ms),
    [500],
  );
  kernel.setFailNft(false);
  assert.equal((await dp.apply()).nftApplied, true);
});

test('refresh re-applies the table when the kernel no longer has what we left', async () => {
  const { clock, pending, fire } = fakeTimers();
  const kernel = fakeKernel([]);
  const dp = new LinuxDataplane({ exec: kernel.exec, nodeName: 'n1', clock, refreshIntervalMs: 90_000 });
  dp.onMessages([{ kind: 'InSync' }]);
  pending.length = 0;
  assert.equal((await dp.apply()).nftApplied, true);
  dp.start();
  assert.deepEqual(
    pending.map((t) => t.ms),
    [90_000],
  );
  kernel.dropTable();
  fire();
  const after = await dp.apply();
  assert.equal(after.nftApplied, false, 'the refresh already repaired it');
  assert.equal(kernel.calls.filter((c) => c === 'nft -f -').length, 2);
  assert.deepEqual(
    pending.map((t) => t.ms),
    [90_000],
    'the next refresh is scheduled',
  );
  dp.close();
  assert.equal(pending.length, 0);
});

test('a new refresh interval reschedules the waiting refresh, or applies to the next one after a running refresh', async () => {
  const { clock, pending, fire } = fakeTimers();
  const kernel = fakeKernel([]);
  const dp = new LinuxDataplane({ exec: kernel.exec, nodeName: 'n1', clock, refreshIntervalMs: 90_000 });
  dp.setRefreshInterval(5_000);
  assert.equal(pending.length, 0, 'not started: nothing scheduled');
  dp.start();
  assert.deepEqual(
    pending.map((t) => t.ms),
    [5_000],
  );
  dp.setRefreshInterval(30_000);
  assert.deepEqual(
    pending.map((t) => t.ms),
    [30_000],
    'the waiting refresh moved, not doubled',
  );
  fire(); // a refresh is running now
  dp.setRefreshInterval(10_000);
  await dp.apply();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    pending.map((t) => t.ms),
    [10_000],
    'one refresh chain, at the new interval',
  );
  dp.close();
});

test('concurrent applies never overlap', async () => {
  const kernel = fakeKernel([]);
  let inFlight = 0;
  let maxInFlight = 0;
  const exec: Exec = async (file, args, input) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await Promise.resolve();
    try {
      return await kernel.exec(file, args, input);
    } finally {
      inFlight--;
    }
  };
  const dp = new LinuxDataplane({ exec, nodeName: 'n1', clock: fakeTimers().clock });
  dp.onMessages([{ kind: 'InSync' }]);
  await Promise.all([dp.apply(), dp.apply(), dp.apply()]);
  assert.equal(maxInFlight, 1);
});
