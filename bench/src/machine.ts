/** The machine a figure was measured on, as docs/BENCHMARKS.md records it. */
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';

export interface MachineInfo {
  nproc: number;
  memGiB: number;
  cpu: string;
  node: string;
  kernel: string;
  /** Soft limit on open files of this process (/proc/self/limits). */
  maxOpenFiles: number;
}

export function machineInfo(): MachineInfo {
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  return {
    nproc: availableParallelism(),
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    cpu,
    node: process.version,
    kernel: release(),
    maxOpenFiles: maxOpenFiles(),
  };
}

export function maxOpenFiles(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null ? NaN : m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return NaN;
  }
}

export type TcpCounters = Record<string, number>;

const TCP_FIELDS = ['ListenOverflows', 'ListenDrops', 'TCPSynRetrans', 'TCPTimeouts', 'TCPAbortOnData', 'TCPReqQFullDrop'];

/** System-wide TcpExt counters from /proc/net/netstat (empty when unavailable). */
export function tcpCounters(): TcpCounters {
  const out: TcpCounters = {};
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0].split(/\s+/).slice(1);
    const values = lines[1].split(/\s+/).slice(1).map(Number);
    names.forEach((n, i) => {
      if (TCP_FIELDS.includes(n)) out[n] = values[i];
    });
  } catch {
    // not Linux
  }
  return out;
}
