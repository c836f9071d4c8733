import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabUsageError, cgroupMounts, checkStateDir } from '../src/index.js';

// /proc/self/mountinfo of a cgroup v1 machine with the hybrid unified hierarchy (this one's shape).
const MOUNTINFO = `22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
25 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
26 25 0:23 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
27 26 0:24 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
28 26 0:25 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
29 26 0:26 /process_api/x /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
30 26 0:27 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
31 26 0:28 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
32 22 0:29 / /run/netns rw,relatime shared:5 - tmpfs tmpfs rw
`;

test('cgroupMounts lists every cgroup hierarchy (v1 and v2) and nothing else', () => {
  assert.deepEqual(cgroupMounts(MOUNTINFO), [
    '/sys/fs/cgroup/cpu',
    '/sys/fs/cgroup/cpuacct',
    '/sys/fs/cgroup/memory',
    '/sys/fs/cgroup/freezer',
    '/sys/fs/cgroup/unified',
  ]);
  assert.deepEqual(cgroupMounts(''), []);
});

test('a kubernetes-engine state dir may not be under a directory every node mounts its own of', () => {
  for (const dir of ['/var/tmp/lab', '/run/lab', '/etc/x', '/opt', '/var']) assert.throws(() => checkStateDir(dir), LabUsageError, dir);
  for (const dir of ['/tmp/ctlab-x', '/work/repo/.cattail/lab/demo', '/variable/lab', '/optional']) assert.doesNotThrow(() => checkStateDir(dir), dir);
});
