/**
 * One Typha replica of the fault world and the two network links around it:
 *
 *   clients ──▶ front proxy ──▶ `cattail typha` (child process) ──▶ link proxy ──▶ etcd
 *              (stable port;      restarted on a new port,          cut / frozen by
 *               cutSome kills     front retargeted when it            the faults
 *               client sockets)   logs "listening")
 *
 * The replica advertises its front address (TYPHA_SERVERADVERTISEADDR), so the Goodbye hints
 * of rebalancing and hand-off lead clients through the front too. While the process is down
 * the front refuses connections, as a dead host's port does. An exit the faults did not ask
 * for is remembered: a crash fails the round.
 */
import type { TcpProxy } from '@cattail/datastore/testing';
import { TyphaChild, type TyphaReplicaStatus } from './typha-child.js';

export type ReplicaName = 'A' | 'B';

/** Rebalancing on, with intervals short enough to move clients several times per round. */
function typhaEnv(linkPort: number, frontPort: number): Record<string, string> {
  return {
    TYPHA_ETCDENDPOINTS: `http://127.0.0.1:${linkPort}`,
    TYPHA_SERVERHOST: '127.0.0.1',
    TYPHA_SERVERPORT: '0',
    TYPHA_SERVERADVERTISEADDR: `127.0.0.1:${frontPort}`,
    TYPHA_HEALTHENABLED: 'true',
    TYPHA_HEALTHHOST: '127.0.0.1',
    TYPHA_HEALTHPORT: '0',
    TYPHA_CONNECTIONREBALANCINGMODE: 'etcd',
    TYPHA_REBALANCEINTERVALSECS: '0.5',
    TYPHA_REBALANCEMAXSHEDPERINTERVAL: '3',
    TYPHA_REBALANCETOLERANCE: '0.2',
    TYPHA_REGISTRATIONTTLSECS: '2',
    TYPHA_SHUTDOWNTIMEOUTSECS: '1',
    TYPHA_SHUTDOWNCONNECTIONDROPINTERVALMAXSECS: '0.1',
    TYPHA_SERVERBATCHWINDOWMS: '5',
    TYPHA_SERVERPINGINTERVALSECS: '2',
    TYPHA_FANOUTWORKERS: '1', // run.ts --fanout-workers K overrides it
    TYPHA_LOGSEVERITYSCREEN: 'Info', // the "listening" line is logged at info,
  };
}

export class Replica {
  readonly name: ReplicaName;
  readonly link: TcpProxy;
  readonly front: TcpProxy;
  /** Unexpected exits (crashes), with their log tails. */
  readonly crashes: string[] = [];
  readonly #env: Readonly<Record<string, string>>;
  #child: TyphaChild | undefined;
  #expectExit = false;
  #starts = 0;

  /** `env` overrides the fault world's TYPHA_* settings (a scenario may turn rebalancing off). */
  constructor(name: ReplicaName, link: TcpProxy, front: TcpProxy, env: Readonly<Record<string, string>> = {}) {
    this.name = name;
    this.link = link;
    this.front = front;
    this.#env = env;
    front.cut(); // nothing to reach until the first start
  }

  get up(): boolean {
    return this.#child?.running === true;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get frontAddress(): string {
    return `127.0.0.1:${this.front.port}`;
  }

  /** Whether the faults want it running (false from stop() to the next start()). */
  get wanted(): boolean {
    return this.#child !== undefined && !this.#expectExit;
  }

  /**
   * Spawns the process, after a stopping one (SIGTERM hand-off) is gone; it joins the front when
   * it logs "listening" (maybe later: its link may be cut).
   */
  async start(): Promise<void> {
    if (this.#child?.running && this.#expectExit) await this.#child.exited(10_000);
    if (this.up) return;
    const child = new TyphaChild({ ...typhaEnv(this.link.port, this.front.port), ...this.#env });
    this.#child = child;
    this.#expectExit = false;
    this.#starts++;
    child.listening.then(
      (ports) => {
        if (this.#child !== child) return;
        this.front.setTarget(ports.syncPort);
        this.front.heal();
      },
      () => undefined,
    );
    void child.gone.then(() => {
      if (this.#child !== child) return;
      this.front.cut();
      if (!this.#expectExit) this.crashes.push(`replica ${this.name} (pid ${child.pid}) exited on its own (${child.exitReason}); log tail:\n${child.tail}`);
    });
  }

  /** SIGKILL (a crash) or SIGTERM (graceful hand-off); waits for the exit only on SIGKILL. */
  async stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child?.running) return;
    this.#expectExit = true;
    child.signal(signal);
    if (signal === 'SIGKILL') await child.exited(5000);
  }

  /** Listening and ready (in sync with etcd), within `ms`. */
  async ready(ms: number): Promise<void> {
    const child = this.#child;
    if (child === undefined) throw new Error(`replica ${this.name} was never started`);
    const deadline = Date.now() + ms;
    const timeout = new Promise<never>((_, reject) => {
      const t = setTimeout(() => reject(new Error(`replica ${this.name} did not listen within ${ms} ms; log tail:\n${child.tail}`)), ms);
      void child.listening.finally(() => clearTimeout(t)).catch(() => undefined);
    });
    await Promise.race([child.listening, timeout]);
    while (!(await child.status(1000))?.ready) {
      if (!child.running) throw new Error(`replica ${this.name} exited while getting ready; log tail:\n${child.tail}`);
      if (Date.now() > deadline) throw new Error(`replica ${this.name} not ready within ${ms} ms; log tail:\n${child.tail}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  status(): Promise<TyphaReplicaStatus | undefined> {
    return this.#child?.status() ?? Promise.resolve(undefined);
  }

  /** One line for reports: pid, starts, link state, and the replica's own view if it answers. */
  async describe(): Promise<string> {
    const s = await this.status();
    const view = s
      ? `rev=${s.revision} ready=${s.ready} conns=${s.total} lists=${s.watcher.lists} relists=${s.watcher.relists} felix.oldestResumable=${s.cache.felix?.oldestResumableRevision} bgp.oldestResumable=${s.cache.bgp?.oldestResumableRevision}`
      : 'no status';
    return `replica ${this.name}: pid=${this.pid ?? '-'} up=${this.up} starts=${this.#starts} link=${this.link.state} front=${this.front.state} ${view}`;
  }

  /** Ends the process (SIGKILL: the round is over) and waits for it. */
  async close(): Promise<void> {
    this.#expectExit = true;
    await this.#child?.exited(0);
  }

  get tail(): string {
    return this.#child?.tail ?? '';
  }
}
