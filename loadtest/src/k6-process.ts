/**
 * k6 as a child process: `k6 run` on one of loadtest/k6/*.js with the scenario's settings in its
 * environment, usage reporting off (K6_NO_USAGE_REPORT and --no-usage-report) and k6's REST API
 * off (--address ""), so it opens no port and talks to nothing but Typha and the runner. Its
 * peak memory (VmHWM) and CPU time are read from /proc/<pid> while it runs; it is ended by its
 * own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLK_TCK = 100;

export interface K6Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Peak resident memory of the k6 process, MB. */
  peakRssMB: number;
  cpuSeconds: number;
  /** The last lines k6 printed (stdout and stderr). */
  tail: string;
}

export class K6Process {
  /** Every k6 this process started that has not exited yet (for a signal handler to end). */
  static readonly live = new Set<K6Process>();
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #tail: string[] = [];
  readonly #exited: Promise<K6Exit>;
  readonly #poll: NodeJS.Timeout;
  #peakRssMB = 0;
  #cpuSeconds = 0;
  #exit: K6Exit | undefined;

  constructor(k6: string, script: string, env: Record<string, string>, echo?: (line: string) => void) {
    const args = ['run', '--no-usage-report', '--address', '', '--no-color', script];
    this.#child = spawn(k6, args, {
      env: { ...process.env, ...env, K6_NO_USAGE_REPORT: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.#child.pid ?? -1;
    K6Process.live.add(this);
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          this.#tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
          if (this.#tail.length > 60) this.#tail.shift();
          echo?.(line);
        }
      });
    }
    this.#poll = setInterval(() => this.#sample(), 500);
    this.#exited = new Promise<K6Exit>((resolve) => {
      this.#child.once('exit', (code, signal) => {
        K6Process.live.delete(this);
        clearInterval(this.#poll);
        this.#exit = { code, signal, peakRssMB: this.#peakRssMB, cpuSeconds: this.#cpuSeconds, tail: this.#tail.join('\n') };
        resolve(this.#exit);
      });
    });
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  get exited(): Promise<K6Exit> {
    return this.#exited;
  }

  #sample(): void {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
      if (hwm > this.#peakRssMB) this.#peakRssMB = Math.round(hwm);
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      this.#cpuSeconds = Math.round(((Number(f[11]) + Number(f[12])) / CLK_TCK) * 100) / 100;
    } catch {
      // exited between polls
    }
  }

  /** Waits for k6 to exit; SIGTERM after `timeoutMs`, SIGKILL 15 s later. */
  async wait(timeoutMs: number): Promise<K6Exit> {
    const term = setTimeout(() => this.kill('SIGTERM'), timeoutMs);
    const kill = setTimeout(() => this.kill('SIGKILL'), timeoutMs + 15_000);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(term);
      clearTimeout(kill);
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }
}
