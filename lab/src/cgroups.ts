/**
 * The lab's cgroups (a `--engine kubernetes` lab): everything its nodes run lives under one
 * cgroup, `/ctlab-<id>`, in every hierarchy of this machine (cgroup v1 here, with the hybrid
 * `unified` hierarchy beside them):
 *
 *   /ctlab-<id>/node-<i>            the kubelet's --cgroup-root: it makes kubepods/… below it,
 *                                   where containerd's runc puts every container
 *   /ctlab-<id>/node-<i>/system     the node's holder, containerd (and so its shims) and the kubelet
 *
 * That makes the cgroup the one complete list of a node's processes, including containers in
 * pod namespaces that no `ip netns pids` of ours would find and that carry none of the lab's
 * environment markers. `removeLabCgroups` ends them all and removes the cgroups: it freezes the
 * tree first (v1 freezer), so nothing forks or exits and no pid is reused while it reads the
 * lists and signals them, then kills, thaws and removes the directories bottom-up. It needs no
 * state file: the tree is found by its name.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './errors.js';

/** Mount points of every cgroup hierarchy (v1 controllers and the v2 one), from /proc/self/mountinfo. */
export function cgroupMounts(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountPoint = line.split(' ')[4];
    if (mountPoint && !out.includes(mountPoint)) out.push(mountPoint);
  }
  return out;
}

/** The v1 hierarchies (the ones a cgroupfs kubelet and runc use); the v2 one is only cleaned. */
function v1Mounts(): string[] {
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  return cgroupMounts(info).filter((m) => info.split('\n').some((l) => l.split(' ')[4] === m && l.includes(' - cgroup ')));
}

/** Creates `path` (e.g. `/ctlab-x/node-1/system`) in every v1 hierarchy; cpuset gets its parent's cpus and mems, which v1 leaves empty. */
export function ensureCgroup(path: string): void {
  const parts = path.split('/').filter(Boolean);
  for (const mount of v1Mounts()) {
    let dir = mount;
    for (const part of parts) {
      const parent = dir;
      dir = join(dir, part);
      if (!existsSync(dir)) mkdirSync(dir);
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const mine = join(dir, f);
        if (existsSync(mine) && readFileSync(mine, 'utf8').trim() === '') writeFileSync(mine, readFileSync(join(parent, f)));
      }
    }
  }
}

/** The `cgroup.procs` files a process writes its pid to, to join `path` in every v1 hierarchy. */
export function cgroupProcsFiles(path: string): string[] {
  return v1Mounts().map((m) => join(m, path, 'cgroup.procs'));
}

/** Every directory of the tree at `dir`, children before parents. */
function postOrder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...postOrder(join(dir, e.name)));
  out.push(dir);
  return out;
}

function procs(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Pids in the tree `path` of any hierarchy. */
export function cgroupPids(path: string): number[] {
  const pids = new Set<number>();
  for (const mount of cgroupMounts()) for (const d of postOrder(join(mount, path))) for (const p of procs(d)) pids.add(p);
  return [...pids];
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * Ends every process in the tree `path` (all hierarchies) and removes its cgroups. Returns the
 * number of processes killed. Throws when something survives (with what is left).
 */
export async function removeCgroupTree(path: string): Promise<number> {
  const mounts = cgroupMounts();
  const freezer = mounts.map((m) => join(m, path)).find((d) => existsSync(join(d, 'freezer.state')));
  let killed = 0;
  for (let round = 0; round < 5 && cgroupPids(path).length > 0; round++) {
    if (freezer) {
      writeFileSync(join(freezer, 'freezer.state'), 'FROZEN');
      await waitFor(() => readFileSync(join(freezer, 'freezer.state'), 'utf8').trim() === 'FROZEN', 5_000);
    }
    for (const pid of cgroupPids(path)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
    if (freezer) writeFileSync(join(freezer, 'freezer.state'), 'THAWED');
    await waitFor(() => cgroupPids(path).length === 0, 5_000);
  }
  const left = cgroupPids(path);
  if (left.length) throw new LabError('LAB_COMMAND_FAILED', `processes ${left.join(', ')} in cgroup ${path} survived SIGKILL`);
  const stuck: string[] = [];
  for (const mount of mounts) {
    for (const d of postOrder(join(mount, path))) {
      // A cgroup just emptied may still be busy for a moment (its last task exiting): retry briefly.
      const gone = await waitFor(() => {
        try {
          rmdirSync(d);
          return true;
        } catch (err) {
          return (err as NodeJS.ErrnoException).code === 'ENOENT';
        }
      }, 3_000);
      if (!gone) stuck.push(d);
    }
  }
  if (stuck.length) throw new LabError('LAB_COMMAND_FAILED', `could not remove cgroups ${stuck.join(', ')}`);
  return killed;
}
