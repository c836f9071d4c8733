/**
 * The parent's handle on the swarm: forks W worker processes (swarm-worker.ts), splits the
 * clients between them, and turns the IPC message stream into promises (one reply per command,
 * matched by `seq`) and an aggregated progress view. Workers are ended by their own pid:
 * `shutdown` first, SIGKILL after a grace period.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SyncerType } from '@cattail/typha/protocol';
import type { Command, Progress, WorkerConfig, WorkerMessage } from './ipc.js';

export interface SwarmOptions {
  workers: number;
  url: string;
  syncer: SyncerType;
  /** LiteClients in total. */
  clients: number;
  /** Real SyncClients per worker (included in the storm and the convergence check). */
  syncClientsPerWorker: number;
  maxPendingConnects: number;
  localAddresses: string[];
  /** LiteClients offer `deflate-snapshot`. */
  deflateSnapshot: boolean;
  /** LiteClients offer `deflate-deltas`: all, none, or the even-numbered ones. */
  deltas: 'deflate' | 'plain' | 'mixed';
  handshakeTimeoutMs: number;
  /** Upper bound for a worker to start and answer init. */
  startTimeoutMs?: number;
  /** Extra node flags for the workers. */
  execArgv?: string[];
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

class WorkerHandle {
  readonly id: number;
  readonly child: ChildProcess;
  readonly pending = new Map<number, Pending>();
  progress: Progress | undefined;
  exited = false;
  #seq = 0;

  constructor(id: number, child: ChildProcess) {
    this.id = id;
    this.child = child;
  }

  call<T>(cmd: Command, timeoutMs: number): Promise<T> {
    const seq = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`swarm worker ${this.id}: "${cmd.type}" got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      if (this.exited || !this.child.connected) {
        this.pending.get(seq)?.reject(new Error(`swarm worker ${this.id} has exited`));
        this.pending.delete(seq);
        return;
      }
      this.child.send({ seq, cmd });
    });
  }
}

export class Swarm {
  readonly workers: WorkerHandle[];
  readonly sizes: number[];

  private constructor(workers: WorkerHandle[], sizes: number[]) {
    this.workers = workers;
    this.sizes = sizes;
  }

  static async start(o: SwarmOptions): Promise<Swarm> {
    const path = fileURLToPath(new URL('./swarm-worker.js', import.meta.url));
    const sizes = split(o.clients, o.workers);
    const handles: WorkerHandle[] = [];
    const swarm = new Swarm(handles, sizes);
    const readies: Promise<void>[] = [];
    for (let w = 0; w < o.workers; w++) {
      const child = fork(path, [], {
        serialization: 'advanced',
        execArgv: o.execArgv ?? [],
        env: { ...process.env, BENCH_WORKER_ID: String(w), NODE_OPTIONS: '' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const h = new WorkerHandle(w, child);
      handles.push(h);
      readies.push(
        new Promise<void>((resolve, reject) => {
          child.on('message', (m: WorkerMessage) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'progress') h.progress = m;
            else if (m.type === 'reply') {
              const p = h.pending.get(m.seq);
              h.pending.delete(m.seq);
              if (p === undefined) return;
              if (m.ok) p.resolve(m.body);
              else p.reject(new Error(`swarm worker ${w}: ${m.error}`));
            }
          });
          child.once('exit', (code, signal) => {
            h.exited = true;
            const err = new Error(`swarm worker ${w} (pid ${child.pid}) exited (${signal ?? code})`);
            for (const p of h.pending.values()) p.reject(err);
            h.pending.clear();
            reject(err);
          });
        }),
      );
    }
    try {
      await withTimeout(Promise.all(readies), o.startTimeoutMs ?? 20_000, 'swarm workers did not start');
      let first = 0;
      await Promise.all(
        handles.map((h, w) => {
          const nodes = Array.from({ length: sizes[w] }, (_, i) => nodeName(first + i));
          first += sizes[w];
          const syncNodes = Array.from({ length: o.syncClientsPerWorker }, (_, i) => `bench-sync-${w}-${i}`);
          const config: WorkerConfig = {
            workerId: w,
            url: o.url,
            syncer: o.syncer,
            nodes,
            syncNodes,
            maxPendingConnects: o.maxPendingConnects,
            localAddresses: o.localAddresses,
            deflateSnapshot: o.deflateSnapshot,
            deltas: o.deltas,
            handshakeTimeoutMs: o.handshakeTimeoutMs,
          };
          return h.call({ type: 'init', config }, 30_000);
        }),
      );
    } catch (err) {
      await swarm.stop();
      throw err;
    }
    return swarm;
  }

  get pids(): number[] {
    return this.workers.map((h) => h.child.pid ?? -1);
  }

  /** The same command to every worker; resolves to the replies in worker order. */
  all<T>(cmd: Command, timeoutMs: number): Promise<T[]> {
    return Promise.all(this.workers.map((h) => h.call<T>(cmd, timeoutMs)));
  }

  /** A per-worker command. */
  each<T>(make: (worker: number) => Command, timeoutMs: number): Promise<T[]> {
    return Promise.all(this.workers.map((h, w) => h.call<T>(make(w), timeoutMs)));
  }

  /** The latest progress of every worker, summed. */
  progress(): Omit<Progress, 'type' | 'workerId'> {
    const sum = { clients: 0, opened: 0, inSync: 0, live: 0, unexpectedCloses: 0, pendingConnects: 0, maxInSyncMs: 0 };
    for (const h of this.workers) {
      const p = h.progress;
      if (p === undefined) continue;
      sum.clients += p.clients;
      sum.opened += p.opened;
      sum.inSync += p.inSync;
      sum.live += p.live;
      sum.unexpectedCloses += p.unexpectedCloses;
      sum.pendingConnects += p.pendingConnects;
      sum.maxInSyncMs = Math.max(sum.maxInSyncMs, p.maxInSyncMs);
    }
    return sum;
  }

  /** Asks every worker to shut down, then SIGKILLs (by pid) any still alive after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const alive = this.workers.filter((h) => !h.exited);
    await Promise.all(
      alive.map(async (h) => {
        const exited = new Promise<void>((resolve) => {
          if (h.exited) resolve();
          else h.child.once('exit', () => resolve());
        });
        try {
          await h.call({ type: 'shutdown' }, graceMs);
        } catch {
          // no answer: the kill below ends it
        }
        const timer = setTimeout(() => {
          if (!h.exited && h.child.pid !== undefined) {
            try {
              process.kill(h.child.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Synchronous last resort for process exit hooks: SIGKILL every live worker by pid. */
  killNow(): void {
    for (const h of this.workers) {
      if (!h.exited && h.child.pid !== undefined) {
        try {
          process.kill(h.child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
}

export function nodeName(i: number): string {
  return `bench-node-${String(i).padStart(5, '0')}`;
}

/** `n` split into `parts` near-equal sizes. */
export function split(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    }),
  ]);
}
