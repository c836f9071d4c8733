/**
 * StatusReporter: writes this node's Felix status to etcd under a lease, so an operator (or
 * `etcdctl get --prefix /cattail/felix/v2/`) sees which nodes are live and in sync, and a node
 * that dies disappears within the TTL (Calico's ReportingIntervalSecs / ReportingTTLSecs).
 *
 *   every interval: grant(ttl) ─▶ put(/cattail/felix/v2/<node>/status, json, lease) ─▶ revoke(previous)
 *                                 put(/cattail/felix/v2/<node>/last_reported_status, json)   (no lease)
 *
 * As Calico's Felix does it: the `status` key (Calico's ActiveStatusReport) lives while Felix
 * does; `last_reported_status` (Calico's LastStatusReport) stays after it is gone, so a node
 * whose Felix died shows when it last reported. Both carry Calico's fields, `time` (RFC 3339),
 * `uptime` (seconds since this Felix started) and `first_update` (true in the first report of
 * this process), plus ours: `inSync`, `typhaConnected`, `dataplaneErrors`.
 *
 * One fresh lease per report rather than a kept-alive one: three unary calls per interval, no
 * stream to watch for loss, and an etcd outage needs no recovery path (the next report simply
 * grants again). Revoking the previous lease does not delete the key: it is attached to the new
 * one by then.
 *
 * The key lives outside `/calico/`, which every Typha watches: a report per node per interval
 * would otherwise wake every Typha's sync pipeline for a key it ignores.
 */
import { silentLogger, type Clock, type Logger, type TimerHandle, type WallClock } from '@cattail/typha/common';

export const STATUS_PREFIX = '/cattail/felix/v2/';

export function statusKey(node: string): string {
  return `${STATUS_PREFIX}${node}/status`;
}

/** The last report, kept without a lease (Calico's `last_reported_status`). */
export function lastStatusKey(node: string): string {
  return `${STATUS_PREFIX}${node}/last_reported_status`;
}

/** The few etcd calls the reporter makes; an EtcdClient fits. */
export interface StatusStore {
  grant(ttlSeconds: number): Promise<{ id: string }>;
  put(key: string, value: string, options: { lease?: string }): Promise<unknown>;
  revoke(id: string): Promise<void>;
}

export interface NodeStatus {
  time: string;
  /** Seconds since this Felix started. */
  uptime: number;
  /** True in the first report this process writes. */
  first_update: boolean;
  inSync: boolean;
  typhaConnected: boolean;
  dataplaneErrors: number;
}

export interface StatusReporterOptions {
  store: StatusStore;
  nodeName: string;
  intervalMs: number;
  ttlSeconds: number;
  status: () => Omit<NodeStatus, 'time' | 'uptime' | 'first_update'>;
  clock: Clock;
  /** Epoch milliseconds for the `time` field. */
  wallClock?: WallClock;
  logger?: Logger;
}

export class StatusReporter {
  readonly #o: StatusReporterOptions;
  readonly #log: Logger;
  #lease: string | undefined;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  #failures = 0;
  /** When this reporter (this Felix) started, in clock time. */
  readonly #startedAt: number;
  #written = false;

  constructor(opts: StatusReporterOptions) {
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#startedAt = opts.clock.now();
  }

  /** Reports now, then every interval. */
  start(): void {
    this.#tick();
  }

  /** Writes one report; resolves when it is stored (or has failed and been logged). */
  async report(): Promise<void> {
    const status: NodeStatus = {
      time: new Date((this.#o.wallClock ?? Date.now)()).toISOString(),
      uptime: Math.round(this.#o.clock.now() - this.#startedAt) / 1000,
      first_update: !this.#written,
      ...this.#o.status(),
    };
    try {
      const { id } = await this.#o.store.grant(this.#o.ttlSeconds);
      const text = JSON.stringify(status);
      await this.#o.store.put(statusKey(this.#o.nodeName), text, { lease: id });
      this.#written = true;
      await this.#o.store.put(lastStatusKey(this.#o.nodeName), text, {});
      const previous = this.#lease;
      this.#lease = id;
      if (previous !== undefined) await this.#o.store.revoke(previous).catch(() => undefined);
      if (this.#failures > 0) this.#log.info({ failures: this.#failures }, 'status report written again');
      this.#failures = 0;
    } catch (err) {
      if (this.#failures++ === 0) this.#log.warn({ err }, 'cannot write the status report; will retry each interval');
    }
  }

  /** Stops reporting and removes the report (its lease is revoked). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    await this.#running;
    const lease = this.#lease;
    this.#lease = undefined;
    if (lease !== undefined) await this.#o.store.revoke(lease).catch(() => undefined);
  }

  #tick(): void {
    if (this.#closed) return;
    this.#running = this.report().finally(() => {
      this.#running = undefined;
      if (!this.#closed) this.#timer = this.#o.clock.setTimeout((self: StatusReporter) => self.#tick(), this.#o.intervalMs, this);
    });
  }
}
