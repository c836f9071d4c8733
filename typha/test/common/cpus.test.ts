import assert from 'node:assert/strict';
import { test } from 'node:test';
import { availableCpus, cgroupCpuLimit, type ReadText } from '../../src/common/cpus.js';

/** A /proc and /sys/fs/cgroup made of a map: the files a real one would show. */
function files(map: Record<string, string>): ReadText {
  return (f) => map[f];
}

test('cgroup v2: the smallest cpu.max quota from the process cgroup up to the root, rounded up', () => {
  const read = files({
    '/proc/self/cgroup': '0::/kubepods.slice/pod1/ctr\n',
    '/sys/fs/cgroup/kubepods.slice/pod1/ctr/cpu.max': 'max 100000\n',
    '/sys/fs/cgroup/kubepods.slice/pod1/cpu.max': '250000 100000\n', // the pod's limit: 2.5 CPUs
    '/sys/fs/cgroup/kubepods.slice/cpu.max': '800000 100000\n',
    '/sys/fs/cgroup/cpu.max': undefined as unknown as string,
  });
  assert.equal(cgroupCpuLimit(read), 2.5);
  assert.equal(availableCpus(read, 16), 3);
  assert.equal(availableCpus(read, 2), 2, 'fewer CPUs to run on than the quota: the affinity');
});

test('cgroup v2 inside a container namespace: the path is / and the files at the mount are its own', () => {
  const read = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '50000 100000' });
  assert.equal(cgroupCpuLimit(read), 0.5);
  assert.equal(availableCpus(read, 8), 1, 'half a CPU is one');
});

test('cgroup v1: cpu.cfs_quota_us over cpu.cfs_period_us under the cpu controller; -1 is no limit', () => {
  const read = files({
    '/proc/self/cgroup': '5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '400000\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
    '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
  });
  assert.equal(cgroupCpuLimit(read), 4);
  assert.equal(availableCpus(read, 32), 4);
  const unlimited = files({
    '/proc/self/cgroup': '1:cpu:/\n',
    '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1',
    '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
  });
  assert.equal(cgroupCpuLimit(unlimited), undefined);
  assert.equal(availableCpus(unlimited, 12), 12);
});

test('nothing readable, or garbage: no limit, never a failure', () => {
  assert.equal(cgroupCpuLimit(files({})), undefined);
  assert.equal(availableCpus(files({}), 6), 6);
  const garbage = files({ '/proc/self/cgroup': 'nonsense\n0::/x\n', '/sys/fs/cgroup/x/cpu.max': 'lots of cpus' });
  assert.equal(cgroupCpuLimit(garbage), undefined);
});

test('on this machine: a whole number of CPUs, at least one, no more than it may run on', async () => {
  const os = await import('node:os');
  const n = availableCpus();
  assert.ok(Number.isInteger(n) && n >= 1 && n <= os.availableParallelism(), `${n}`);
});

test('TYPHA_FANOUTWORKERS=0: a process per CPU given, the main one included, at most one worker per 1,000 connections', async () => {
  const { autoFanoutWorkers } = await import('../../src/server/fanout-pool.js');
  assert.equal(autoFanoutWorkers(1, 10_000), 1, 'one CPU: the main process writes');
  assert.equal(autoFanoutWorkers(2, 10_000), 1, 'two CPUs: still none (measured faster in-process there)');
  assert.equal(autoFanoutWorkers(3, 10_000), 2);
  assert.equal(autoFanoutWorkers(16, 10_000), 10, 'capped by MaxConnectionsUpperLimit / 1,000');
  assert.equal(autoFanoutWorkers(16, 50_000), 15);
  assert.equal(autoFanoutWorkers(64, 500), 1, 'a small replica needs none');
});

test('the plan: an explicit TYPHA_FANOUTWORKERS starts all at once; the automatic number is a ceiling reached one worker per 1,000 sockets', async () => {
  const { fanoutWorkersPlan, CONNECTIONS_PER_AUTO_WORKER } = await import('../../src/server/fanout-pool.js');
  assert.deepEqual(fanoutWorkersPlan(4, 2, 10_000), { workers: 4, growAt: 0 }, 'as configured, whatever the CPUs');
  assert.deepEqual(fanoutWorkersPlan(1, 64, 10_000), { workers: 1, growAt: 0 });
  assert.deepEqual(fanoutWorkersPlan(0, 2, 10_000), { workers: 1, growAt: 0 }, 'two CPUs: in-process');
  assert.deepEqual(fanoutWorkersPlan(0, 16, 10_000), { workers: 10, growAt: CONNECTIONS_PER_AUTO_WORKER });
  assert.equal(CONNECTIONS_PER_AUTO_WORKER, 1000);
});
