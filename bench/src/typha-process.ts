/**
 * Typha as the system under test: a child process (`node cli/bin/cattail.js typha`) configured
 * by TYPHA_* environment variables like Calico's Typha, on ports picked by the kernel (port 0),
 * which it announces in its "listening" log line. The bench reads its health, status and
 * metrics over HTTP and its CPU time and memory from /proc/<pid>, and ends it by its own pid.
 *
 *   spawn ─stdout JSON lines─▶ {"msg":"listening","syncPort","healthPort","metricsPort"}
 *         ─GET /readiness until 200─▶ ready
 *         ─/proc/<pid>/stat (utime+stime), /proc/<pid>/status (VmRSS, VmHWM)─▶ cost
 *         ─SIGTERM (SIGKILL after the grace period)─▶ gone (a --cpu-prof profile is written
 *           on the orderly exit)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CATTAIL_BIN = fileURLToPath(new URL('../../../cli/bin/cattail.js', import.meta.url));
const CLK_TCK = 100;

export interface TyphaProcessOptions {
  etcdEndpoints: string[];
  /** TYPHA_MAXCONNECTIONSUPPERLIMIT. */
  maxConnections: number;
  /**
   * TYPHA_MAXCONNECTIONSPERSOURCE; Typha's default (1000) when undefined. A swarm of thousands
   * of clients on one loopback address is a benchmark's artefact, not an attack: the fan-out
   * and k6 runs pass 0 (no limit).
   */
  maxConnectionsPerSource?: number;
  /** TYPHA_SERVERBATCHWINDOWMS; Typha's default when undefined. */
  batchWindowMs?: number;
  /** TYPHA_LOGSEVERITYSCREEN. Default Info (the "listening" line is logged at info). */
  logSeverity?: string;
  /** Write a V8 CPU profile of the Typha process into this directory (node --cpu-prof). */
  cpuProfDir?: string;
  /** Any other TYPHA_* settings. */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface ProcStats {
  cpuSeconds: number;
  rssMB: number;
  /** Peak resident set size (VmHWM). */
  peakRssMB: number;
}

export interface TyphaStatus {
  serverId?: string;
  revision?: number;
  inSync?: boolean;
  connections?: Record<string, number>;
  clients?: Array<{ id?: string; node?: string; syncer?: string; revision?: number; lagMs?: number; bufferedBytes?: number }>;
  cache?: unknown;
  [k: string]: unknown;
}

export class TyphaProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  syncPort = 0;
  healthPort = 0;
  metricsPort = 0;
  readonly #tail: string[] = [];
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly #exited: Promise<void>;
  #stdoutBytes = 0;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.pid = child.pid ?? -1;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve();
      });
    });
  }

  static async start(o: TyphaProcessOptions): Promise<TyphaProcess> {
    const env: Record<string, string> = {
      ...stringEnv(process.env),
      TYPHA_ETCDENDPOINTS: o.etcdEndpoints.join(','),
      TYPHA_SERVERHOST: '127.0.0.1',
      TYPHA_SERVERPORT: '0',
      TYPHA_HEALTHENABLED: 'true',
      TYPHA_HEALTHHOST: '127.0.0.1',
      TYPHA_HEALTHPORT: '0',
      TYPHA_PROMETHEUSMETRICSENABLED: 'true',
      TYPHA_PROMETHEUSMETRICSHOST: '127.0.0.1',
      TYPHA_PROMETHEUSMETRICSPORT: '0',
      TYPHA_LOGSEVERITYSCREEN: o.logSeverity ?? 'Info',
      TYPHA_MAXCONNECTIONSUPPERLIMIT: String(o.maxConnections),
      NODE_OPTIONS: '',
      ...o.env,
    };
    if (o.batchWindowMs !== undefined) env.TYPHA_SERVERBATCHWINDOWMS = String(o.batchWindowMs);
    if (o.maxConnectionsPerSource !== undefined && env.TYPHA_MAXCONNECTIONSPERSOURCE === undefined) {
      env.TYPHA_MAXCONNECTIONSPERSOURCE = String(o.maxConnectionsPerSource);
    }
    // Node 20 refuses --cpu-prof in NODE_OPTIONS, so it goes on the command line.
    const nodeArgs = o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : [];
    const child = spawn(process.execPath, [...nodeArgs, CATTAIL_BIN, 'typha'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const t = new TyphaProcess(child);
    try {
      await t.#waitListening(o.startTimeoutMs ?? 30_000);
    } catch (err) {
      await t.stop(2000);
      throw err;
    }
    return t;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.syncPort}`;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** The last log lines (stdout and stderr), for error messages. */
  get tail(): string {
    return this.#tail.join('\n');
  }

  get stdoutBytes(): number {
    return this.#stdoutBytes;
  }

  #keep(line: string): void {
    this.#tail.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
    if (this.#tail.length > 40) this.#tail.shift();
  }

  #waitListening(timeoutMs: number): Promise<void> {
    const child = this.child;
    return new Promise<void>((resolve, reject) => {
      let found = false;
      let partial = '';
      const timer = setTimeout(() => reject(new Error(`typha did not log "listening" within ${timeoutMs} ms; log tail:\n${this.tail}`)), timeoutMs);
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        this.#stdoutBytes += chunk.length;
        const text = partial + chunk;
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          this.#keep(line);
          if (found || !line.includes('listening')) continue;
          try {
            const rec = JSON.parse(line) as Record<string, unknown>;
            if (rec.msg === 'listening' && typeof rec.syncPort === 'number') {
              this.syncPort = rec.syncPort;
              this.healthPort = Number(rec.healthPort ?? 0);
              this.metricsPort = Number(rec.metricsPort ?? 0);
              found = true;
              clearTimeout(timer);
              resolve();
            }
          } catch {
            // not JSON: keep in the tail only
          }
        }
      });
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line) this.#keep(`[stderr] ${line}`);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!found) reject(new Error(`typha exited (${signal ?? code}) before listening; log tail:\n${this.tail}`));
      });
    });
  }

  /** Polls GET /readiness until 200. */
  async waitReady(timeoutMs: number): Promise<number> {
    const start = performance.now();
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${this.healthPort}/readiness`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) return performance.now() - start;
      } catch {
        // not up yet
      }
      if (!this.running) throw new Error(`typha exited while waiting for readiness; log tail:\n${this.tail}`);
      if (performance.now() - start > timeoutMs) throw new Error(`typha not ready within ${timeoutMs} ms; log tail:\n${this.tail}`);
      await sleep(100);
    }
  }

  async status(): Promise<TyphaStatus> {
    const res = await fetch(`http://127.0.0.1:${this.healthPort}/status`, { signal: AbortSignal.timeout(10_000) });
    return (await res.json()) as TyphaStatus;
  }

  /** Prometheus text → metric name → sum over its label sets (histograms: the _sum/_count series). */
  async metrics(): Promise<Map<string, number>> {
    const res = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return parsePrometheus(await res.text());
  }

  proc(): ProcStats | undefined {
    return procStats(this.pid);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; by pid, only ours. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    signal(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signal(this.pid, 'SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  killNow(): void {
    if (this.running) signal(this.pid, 'SIGKILL');
  }
}

export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    out.set(m[1], (out.get(m[1]) ?? 0) + v);
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('TYPHA_')) out[k] = v;
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * CPU seconds (user + system) and memory of a process and its live descendants (Typha's
 * fan-out workers, TYPHA_FANOUTWORKERS) from /proc, summed (peak RSS: the sum of each one's
 * peak); undefined once it is gone.
 */
export function procStats(pid: number): ProcStats | undefined {
  const own = oneProcStats(pid);
  if (own === undefined) return undefined;
  for (const child of childPids(pid)) {
    const c = procStats(child);
    if (c === undefined) continue;
    own.cpuSeconds += c.cpuSeconds;
    own.rssMB += c.rssMB;
    own.peakRssMB += c.peakRssMB;
  }
  return own;
}

export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter((x) => x !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU and memory of `pid` alone (see procStats for it with its descendants). */
export function oneProcStats(pid: number): ProcStats | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { cpuSeconds, rssMB: kb('VmRSS') / 1024, peakRssMB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}
