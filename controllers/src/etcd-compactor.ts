/**
 * etcd history compaction, as calico-kube-controllers does on the etcd datastore
 * (`etcdV3CompactionPeriod`, COMPACTION_PERIOD; Calico's default 10 minutes, 0 off). etcd keeps
 * every revision of every key until it is compacted; without it the database only grows, until
 * its space quota makes the whole cluster read-only. Only the leader compacts.
 *
 *   tick k:  revision now r_k  ──▶  compact to r_{k-1}  (read one period ago)
 *
 * so at least one period of history always stays: a watcher (Typha's, Felix's resume through
 * Typha) that was away for less than a period resumes without a snapshot; one away longer gets
 * CompactedError and relists, as it would after any compaction. A compaction etcd refuses
 * because the history is already compacted past that revision (another compactor, etcd's own
 * --auto-compaction) is not an error. Other failures are logged and retried at the next tick.
 */
import { durationMillis } from '@cattail/api';
import type { Datastore } from '@cattail/datastore';
import type { etcd as etcdNs } from '@cattail/datastore';
import { realClock, type Clock, type TimerHandle } from '@cattail/typha/common';

/** Calico's default etcdV3CompactionPeriod. */
export const DEFAULT_COMPACTION_PERIOD_MS = 10 * 60_000;

export interface CompactorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface EtcdCompactorOptions {
  etcd: Pick<etcdNs.EtcdClient, 'compact' | 'status'>;
  /** For the KubeControllersConfiguration's etcdV3CompactionPeriod when `periodMs` is not given. */
  ds?: Datastore;
  configName?: string;
  /** COMPACTION_PERIOD, which wins over the resource; 0 turns compaction off. */
  periodMs?: number;
  clock?: Clock;
  logger: CompactorLogger;
}

export interface CompactorStatus {
  periodMs: number;
  compactions: number;
  /** The revision history was last compacted to. */
  compactedTo?: number;
  errors: number;
}

export class EtcdCompactor {
  readonly #o: EtcdCompactorOptions;
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;
  #stopped = true;
  /** The store revision read at the previous tick: the next compaction's target. */
  #previous: number | undefined;
  #running: Promise<void> = Promise.resolve();
  readonly #status: CompactorStatus = { periodMs: DEFAULT_COMPACTION_PERIOD_MS, compactions: 0, errors: 0 };

  constructor(o: EtcdCompactorOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
  }

  status(): CompactorStatus {
    return { ...this.#status };
  }

  /** The first tick now (it only reads the revision), then one per period. */
  start(): void {
    this.#stopped = false;
    this.#previous = undefined;
    this.#running = this.#tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    await this.#running;
  }

  async #tick(): Promise<void> {
    try {
      const period = await this.#period();
      this.#status.periodMs = period;
      if (period === 0) {
        this.#schedule(DEFAULT_COMPACTION_PERIOD_MS); // off: look at the setting again later
        return;
      }
      const now = (await this.#o.etcd.status()).revision;
      const target = this.#previous;
      this.#previous = now;
      if (target !== undefined && target > (this.#status.compactedTo ?? 0)) await this.#compact(target);
      this.#schedule(period);
    } catch (err) {
      this.#status.errors++;
      this.#o.logger.warn({ err }, 'etcd compaction failed; trying again next period');
      this.#schedule(this.#status.periodMs || DEFAULT_COMPACTION_PERIOD_MS);
    }
  }

  async #compact(revision: number): Promise<void> {
    try {
      await this.#o.etcd.compact(revision);
    } catch (err) {
      // Already compacted at or past it (etcd's ErrCompacted): the history is as short already.
      if ((err as { code?: unknown }).code !== 'ETCD_COMPACTED') throw err;
    }
    this.#status.compactions++;
    this.#status.compactedTo = revision;
    this.#o.logger.info({ revision }, 'compacted etcd history');
  }

  async #period(): Promise<number> {
    if (this.#o.periodMs !== undefined) return this.#o.periodMs;
    if (!this.#o.ds) return DEFAULT_COMPACTION_PERIOD_MS;
    try {
      const res = await this.#o.ds.get({ kind: 'KubeControllersConfiguration', name: this.#o.configName ?? 'default' });
      const text = (res.spec as { etcdV3CompactionPeriod?: unknown } | undefined)?.etcdV3CompactionPeriod;
      const ms = typeof text === 'string' ? durationMillis(text) : undefined;
      return ms ?? DEFAULT_COMPACTION_PERIOD_MS;
    } catch {
      return DEFAULT_COMPACTION_PERIOD_MS;
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(
      (self: EtcdCompactor) => {
        self.#running = self.#tick();
      },
      ms,
      this,
    );
  }
}
