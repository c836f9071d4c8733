/**
 * The lab's long-lived processes (etcd, Typha, Felix, confd, BIRD, the loopback relays) run
 * detached, so they outlive `cattail lab up`; each writes to its own log in the state dir.
 *
 * A pid alone is not an identity: after a crash or a reboot it may belong to someone else. So
 * each process gets two environment variables, CATTAIL_LAB=<prefix> and CATTAIL_LAB_ROLE=<role>
 * (`ip netns exec` and exec keep the environment), and the record keeps the start time from
 * /proc/<pid>/stat. A signal is only ever sent to a pid whose start time and environment still
 * match. Without a state file, `down` finds the lab's processes by scanning /proc for the exact
 * CATTAIL_LAB value — never by program name.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import type { ProcessRecord } from './state.js';

export const LAB_ENV = 'CATTAIL_LAB';
export const ROLE_ENV = 'CATTAIL_LAB_ROLE';

export interface SpawnSpec {
  role: string;
  /** Program and arguments. */
  argv: string[];
  env: NodeJS.ProcessEnv;
  log: string;
}

/** Start time (field 22 of /proc/<pid>/stat) and state letter, or undefined when gone. */
export function procStat(pid: number): { startTime: number; state: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0], startTime: Number(rest[19]) };
}

function environ(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  try {
    for (const kv of readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')) {
      const eq = kv.indexOf('=');
      if (eq > 0) out.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
  } catch {
    // gone, or not ours to read
  }
  return out;
}

/** Starts a detached process with the lab's markers and returns its record (it has a pid). */
export function spawnDetached(prefix: string, spec: SpawnSpec): ProcessRecord {
  const fd = openSync(spec.log, 'a');
  let pid: number | undefined;
  try {
    const child = spawn(spec.argv[0], spec.argv.slice(1), {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...spec.env, [LAB_ENV]: prefix, [ROLE_ENV]: spec.role },
    });
    child.on('error', () => undefined);
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  if (pid === undefined) throw new Error(`could not start ${spec.argv[0]} for ${spec.role}: see ${spec.log}`);
  return { pid, startTime: procStat(pid)?.startTime ?? 0, role: spec.role, argv: spec.argv, log: spec.log };
}

/** The recorded process is alive and is still the one we started (start time and markers match). */
export function isOurs(prefix: string, rec: ProcessRecord): boolean {
  const st = procStat(rec.pid);
  if (st === undefined || st.state === 'Z' || st.state === 'X') return false;
  if (rec.startTime !== 0 && st.startTime !== rec.startTime) return false;
  const env = environ(rec.pid);
  return env.get(LAB_ENV) === prefix && env.get(ROLE_ENV) === rec.role;
}

/**
 * The process we just started still runs (same pid and start time, not a zombie). For waiting on
 * a start: right after spawn the child may not have exec'd yet (or `ip netns exec` is between
 * its own exec and BIRD's), and /proc/<pid>/environ then shows the parent's environment or
 * nothing, so the markers cannot be checked yet; the start time already identifies it.
 */
export function isAlive(rec: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  return !gone(rec.pid, rec.startTime);
}

function gone(pid: number, startTime: number): boolean {
  const st = procStat(pid);
  return st === undefined || st.state === 'Z' || st.state === 'X' || (startTime !== 0 && st.startTime !== startTime);
}

/**
 * SIGTERM (or `signal`) to a verified pid, SIGKILL after `graceMs`; resolves when it is gone.
 * Returns false when the pid was not ours (nothing sent).
 */
export async function stopProcess(prefix: string, rec: ProcessRecord, opts: { graceMs?: number; signal?: NodeJS.Signals } = {}): Promise<boolean> {
  if (!isOurs(prefix, rec)) return false;
  const startTime = procStat(rec.pid)?.startTime ?? rec.startTime;
  try {
    process.kill(rec.pid, opts.signal ?? 'SIGTERM');
  } catch {
    return true;
  }
  const deadline = Date.now() + (opts.graceMs ?? 5_000);
  while (!gone(rec.pid, startTime)) {
    if (Date.now() > deadline) {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        // just went
      }
      const hard = Date.now() + 5_000;
      while (!gone(rec.pid, startTime) && Date.now() < hard) await new Promise((r) => setTimeout(r, 50));
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Every live process whose environment says CATTAIL_LAB=<prefix>, with its role. */
export function findLabProcesses(prefix: string): ProcessRecord[] {
  const out: ProcessRecord[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const env = environ(pid);
    if (env.get(LAB_ENV) !== prefix) continue;
    const st = procStat(pid);
    if (st === undefined || st.state === 'Z') continue;
    out.push({ pid, startTime: st.startTime, role: env.get(ROLE_ENV) ?? '', argv: [], log: '' });
  }
  return out;
}

/** The last `bytes` of a log file, for error messages. */
export function logTail(path: string, bytes = 2000): string {
  try {
    return readFileSync(path, 'utf8').slice(-bytes);
  } catch {
    return '(no log)';
  }
}
