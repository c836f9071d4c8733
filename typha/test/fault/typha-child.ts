/**
 * One real Typha process for the fault harness: `node cli/bin/cattail.js typha` with TYPHA_*
 * environment, as an operator runs it. It announces its ports in the "listening" log line
 * (ports are 0: the kernel picks them). Signals go to its own pid only; an 'exit' hook SIGKILLs
 * any child still alive if the test process dies, so a crashed run leaves no Typha behind.
 *
 * Unlike bench's TyphaProcess (which measures a healthy replica), `listening` is a promise the
 * caller may leave pending: a replica restarted while its etcd link is cut does not listen
 * until the link heals (it fetches the datastore id first), and the fault plan goes on without
 * it. (bench depends on typha, so typha's tests cannot import bench's class.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** From typha/dist/test/fault/ to the workspace's cli/bin/cattail.js. */
export const CATTAIL_BIN = fileURLToPath(new URL('../../../../cli/bin/cattail.js', import.meta.url));
const CLI_MAIN = fileURLToPath(new URL('../../../../cli/dist/src/main.js', import.meta.url));

export interface TyphaPorts {
  syncPort: number;
  healthPort: number;
}

export interface TyphaReplicaStatus {
  serverId: string;
  revision: number;
  inSync: boolean;
  ready: boolean;
  total: number;
  watcher: { lists: number; relists: number; revision: number };
  cache: Record<string, { revision: number; oldestResumableRevision: number; keys: number; tombstones: number }>;
  /** With TYPHA_FANOUTWORKERS > 1: the sockets each worker holds. */
  fanoutWorkers?: { sockets: number }[];
}

const live = new Set<ChildProcess>();
let hooked = false;

function killLive(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

/**
 * On exit, and on SIGINT/SIGTERM (a long run stopped by hand): SIGKILL our Typha children, then
 * exit, which also runs the etcd harness's own 'exit' hook. (Children of a killed parent would
 * otherwise live on, holding ports.)
 */
function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killLive);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killLive();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

export class TyphaChild {
  readonly pid: number;
  /** Resolves with the ports once the replica logs "listening"; rejects if it exits first. */
  readonly listening: Promise<TyphaPorts>;
  /** Resolves when the process has exited, whatever the reason. */
  readonly gone: Promise<void>;
  readonly #child: ChildProcess;
  readonly #tail: string[] = [];
  #exit: string | undefined;
  #ports: TyphaPorts | undefined;

  constructor(env: Record<string, string>) {
    if (!existsSync(CLI_MAIN)) throw new Error(`the cattail CLI is not built (${CLI_MAIN} is missing): run \`npx tsc -b\``);
    const base: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TYPHA_')) base[k] = v;
    const child = spawn(process.execPath, [CATTAIL_BIN, 'typha'], { env: { ...base, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.pid = child.pid ?? -1;
    live.add(child);
    installHooks();
    this.gone = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = signal ?? `code ${code}`;
        live.delete(child);
        resolve();
      });
    });
    this.listening = new Promise<TyphaPorts>((resolve, reject) => {
      let partial = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          this.#keep(line);
          if (this.#ports || !line.includes('"listening"')) continue;
          let rec: { syncPort?: number; healthPort?: number };
          try {
            rec = JSON.parse(line) as typeof rec;
          } catch {
            continue;
          }
          if (typeof rec.syncPort !== 'number' || typeof rec.healthPort !== 'number') continue;
          this.#ports = { syncPort: rec.syncPort, healthPort: rec.healthPort };
          resolve(this.#ports);
        }
      });
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line) this.#keep(`[stderr] ${line}`);
      });
      void this.gone.then(() => reject(new Error(`typha ${this.pid} exited (${this.#exit}) before listening; log tail:\n${this.tail}`)));
    });
    this.listening.catch(() => undefined); // a caller that never awaits it must not crash the run
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** How it exited ('SIGKILL', 'code 0', …), undefined while running. */
  get exitReason(): string | undefined {
    return this.#exit;
  }

  get ports(): TyphaPorts | undefined {
    return this.#ports;
  }

  /** The last log lines, for failure reports. */
  get tail(): string {
    return this.#tail.join('\n');
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.#child.kill(sig);
  }

  /** Waits for the exit; SIGKILL after `ms` if the process is still there. */
  async exited(ms: number): Promise<void> {
    if (!this.running) return;
    const timer = setTimeout(() => this.signal('SIGKILL'), ms);
    await this.gone;
    clearTimeout(timer);
  }

  /** The replica's /status, or undefined when it does not answer within `ms`. */
  async status(ms = 2000): Promise<TyphaReplicaStatus | undefined> {
    if (!this.#ports || !this.running) return undefined;
    try {
      const res = await fetch(`http://127.0.0.1:${this.#ports.healthPort}/status`, { signal: AbortSignal.timeout(ms) });
      return (await res.json()) as TyphaReplicaStatus;
    } catch {
      return undefined;
    }
  }

  #keep(line: string): void {
    this.#tail.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
    if (this.#tail.length > 30) this.#tail.shift();
  }
}
