/**
 * How many CPUs this process is given: the CPUs it may run on (its affinity,
 * `os.availableParallelism()`), lowered by a CFS quota of its cgroup (a Kubernetes CPU limit)
 * anywhere up its hierarchy, rounded up, as Go 1.25 now sets GOMAXPROCS. Calico's Typha uses
 * every core of its machine by the Go runtime's default; ours sizes its fan-out workers by this.
 *
 *   cgroup v2   /proc/self/cgroup "0::<path>"          → /sys/fs/cgroup/<path>/cpu.max "<quota> <period>" | "max <period>"
 *   cgroup v1   /proc/self/cgroup "<n>:cpu[,…]:<path>" → <mount>/<path>/cpu.cfs_quota_us, cpu.cfs_period_us (quota -1: none)
 *
 * Inside a container with a cgroup namespace the path is "/" and the files at the mount are the
 * container's own. Unreadable files mean no limit from there (never a failure).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What cgroupCpuLimit reads (injected by tests). */
export type ReadText = (file: string) => string | undefined;

const readText: ReadText = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** The CPUs this process is given: affinity, lowered by a cgroup CPU quota. At least 1. */
export function availableCpus(read: ReadText = readText, affinity = os.availableParallelism()): number {
  const limit = cgroupCpuLimit(read);
  const n = limit === undefined ? affinity : Math.min(affinity, Math.ceil(limit));
  return Math.max(1, n);
}

/** The smallest CFS quota ÷ period from the process's cgroup up to the root, or undefined (none). */
export function cgroupCpuLimit(read: ReadText = readText, root = '/sys/fs/cgroup'): number | undefined {
  const self = read('/proc/self/cgroup');
  if (self === undefined) return undefined;
  let limit: number | undefined;
  const lower = (v: number | undefined): void => {
    if (v !== undefined && v > 0 && (limit === undefined || v < limit)) limit = v;
  };
  for (const line of self.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (m === null) continue;
    const [, id, controllers, cgPath] = m;
    if (id === '0' && controllers === '') {
      for (const dir of upFrom(root, cgPath)) lower(parseCpuMax(read(path.join(dir, 'cpu.max'))));
    } else if (controllers.split(',').includes('cpu')) {
      for (const mount of [path.join(root, controllers), path.join(root, 'cpu')]) {
        for (const dir of upFrom(mount, cgPath)) lower(parseCfs(read(path.join(dir, 'cpu.cfs_quota_us')), read(path.join(dir, 'cpu.cfs_period_us'))));
      }
    }
  }
  return limit;
}

/** `<base>/<cgPath>`, its parents, up to `<base>`. */
function upFrom(base: string, cgPath: string): string[] {
  const parts = cgPath.split('/').filter((p) => p !== '' && p !== '.' && p !== '..');
  const dirs: string[] = [];
  for (let i = parts.length; i >= 0; i--) dirs.push(path.join(base, ...parts.slice(0, i)));
  return dirs;
}

function parseCpuMax(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === 'max') return undefined;
  const q = Number(quota);
  const p = Number(period ?? '100000');
  return Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? q / p : undefined;
}

function parseCfs(quota: string | undefined, period: string | undefined): number | undefined {
  if (quota === undefined || period === undefined) return undefined;
  const q = Number(quota.trim());
  const p = Number(period.trim());
  return Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? q / p : undefined;
}
