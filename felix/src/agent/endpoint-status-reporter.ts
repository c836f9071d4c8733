/**
 * EndpointStatusReporter: Calico's endpoint status reporter (EndpointReportingEnabled). The
 * dataplane reports each local endpoint's status after every apply; this writes the ones that
 * changed to etcd, one key per endpoint, and deletes the key of an endpoint that went away:
 *
 *   /cattail/felix/v2/<node>/workload/<namespace>/<name>    {"status":"up"}     WorkloadEndpoint
 *   /cattail/felix/v2/<node>/host-endpoint/<name>           {"status":"down"}   HostEndpoint
 *
 * Calico writes `/calico/felix/v2/<region>/host/<node>/workload/<orchestrator>/<workload>/endpoint/<endpoint>`
 * (and `/calico/felix/v1/host/<node>/endpoint/<name>` for host endpoints) with the same value.
 * Ours differ in two ways, both on purpose: the root is `/cattail/`, beside the node status,
 * because every Typha watches all of `/calico/` and would wake for each write; and a workload
 * endpoint is named by its resource's namespace and name (which already spell node, orchestrator,
 * pod and endpoint), since the orchestrator/workload/endpoint triple never reaches Felix.
 *
 * Timing, as Calico's (statusrep): a tick every `delayMs` (EndpointReportingDelaySecs). A status
 * that changes is queued; at the next tick it moves to the dirty set, and the tick after that
 * writes it, so a status is written once it has held for at least one delay and a flap inside
 * it costs nothing. (Calico writes one key per tick; this writes every dirty key each tick, so
 * 200 pods starting on a node are reported within two delays rather than 200.) A write that
 * fails leaves the key dirty for the next tick.
 *
 * Resync: the reporter lists its own keys and marks dirty every key whose stored value is not
 * the one wanted, every stored key for an endpoint that is gone and every wanted key that is
 * missing. It resyncs after the first report (keys left by an earlier run of this Felix), every
 * `resyncEvery` ticks (Calico: 180 delays), and after a failed write, once the datastore answers
 * again: an outage may have lost or restored anything.
 *
 * Statuses stay when Felix stops (as in Calico): the endpoints still exist and their interfaces
 * still work; the next Felix on the node resyncs them.
 */
import { silentLogger, type Clock, type Logger, type TimerHandle } from '@cattail/typha/common';
import type { EndpointOperStatus, EndpointStatusReport } from '../dataplane/endpoint-status.js';
import { STATUS_PREFIX } from './status-reporter.js';

/** The etcd calls the reporter makes; `etcdEndpointStatusStore` adapts an EtcdClient. */
export interface EndpointStatusStore {
  put(key: string, value: string): Promise<unknown>;
  delete(key: string): Promise<unknown>;
  /** Every key under `prefix`, with its value. */
  list(prefix: string): Promise<Array<{ key: string; value: string }>>;
}

export function workloadStatusPrefix(node: string): string {
  return `${STATUS_PREFIX}${node}/workload/`;
}

export function hostEndpointStatusPrefix(node: string): string {
  return `${STATUS_PREFIX}${node}/host-endpoint/`;
}

/** `endpoint` is the dataplane's key, `namespace/name`. */
export function workloadStatusKey(node: string, endpoint: string): string {
  return `${workloadStatusPrefix(node)}${endpoint}`;
}

export function hostEndpointStatusKey(node: string, name: string): string {
  return `${hostEndpointStatusPrefix(node)}${name}`;
}

export interface EndpointStatusReporterOptions {
  store: EndpointStatusStore;
  nodeName: string;
  /** EndpointReportingDelaySecs in ms: the tick. */
  delayMs: number;
  /** A full resync every this many ticks (default 180, as Calico). */
  resyncEvery?: number;
  clock: Clock;
  logger?: Logger;
}

export interface EndpointStatusReporterStats {
  /** Keys whose status is wanted now. */
  endpoints: number;
  /** Keys written or deleted but not yet confirmed (queued or dirty). */
  pending: number;
  writes: number;
  deletes: number;
  failures: number;
  resyncs: number;
}

function valueOf(status: EndpointOperStatus): string {
  return JSON.stringify({ status });
}

function statusIn(value: string): string | undefined {
  try {
    const v = JSON.parse(value) as { status?: unknown };
    return typeof v.status === 'string' ? v.status : undefined;
  } catch {
    return undefined;
  }
}

export class EndpointStatusReporter {
  readonly #o: EndpointStatusReporterOptions;
  readonly #log: Logger;
  readonly #resyncEvery: number;
  /** Store key → the status that should be there. */
  #wanted = new Map<string, EndpointOperStatus>();
  /** Changed since the last tick: written at the tick after next. */
  #queued = new Set<string>();
  /** Written at the next tick. */
  readonly #dirty = new Set<string>();
  #reported = false;
  #resyncWanted = false;
  #ticks = 0;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  #failing = false;
  readonly #stats = { writes: 0, deletes: 0, failures: 0, resyncs: 0 };

  constructor(opts: EndpointStatusReporterOptions) {
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#resyncEvery = opts.resyncEvery ?? 180;
  }

  start(): void {
    this.#schedule();
  }

  /** The dataplane's latest report (all local endpoints); only differences are queued. */
  onReport(report: EndpointStatusReport): void {
    const node = this.#o.nodeName;
    const next = new Map<string, EndpointOperStatus>();
    for (const [k, s] of report.workloads) next.set(workloadStatusKey(node, k), s);
    for (const [k, s] of report.hostEndpoints) next.set(hostEndpointStatusKey(node, k), s);
    for (const [k, s] of next) if (this.#wanted.get(k) !== s) this.#queue(k);
    for (const k of this.#wanted.keys()) if (!next.has(k)) this.#queue(k);
    this.#wanted = next;
    if (!this.#reported) {
      this.#reported = true;
      this.#resyncWanted = true;
    }
  }

  stats(): EndpointStatusReporterStats {
    return { endpoints: this.#wanted.size, pending: new Set([...this.#queued, ...this.#dirty]).size, ...this.#stats };
  }

  /** One tick now (tests; the timer calls the same). */
  async tick(): Promise<void> {
    if (!this.#reported) return;
    if (++this.#ticks % this.#resyncEvery === 0) this.#resyncWanted = true;
    if (this.#resyncWanted) await this.#resync();
    await this.#writeDirty();
    for (const k of this.#queued) this.#dirty.add(k);
    this.#queued.clear();
  }

  /** Stops ticking; statuses stay in the datastore. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#o.clock.clearTimeout(this.#timer);
    await this.#running;
  }

  #queue(key: string): void {
    if (!this.#dirty.has(key)) this.#queued.add(key);
  }

  async #resync(): Promise<void> {
    const node = this.#o.nodeName;
    let stored: Array<{ key: string; value: string }>;
    try {
      stored = [...(await this.#o.store.list(workloadStatusPrefix(node))), ...(await this.#o.store.list(hostEndpointStatusPrefix(node)))];
    } catch (err) {
      this.#failed(err, 'cannot list endpoint statuses for a resync; will retry');
      return;
    }
    this.#resyncWanted = false;
    this.#stats.resyncs++;
    const seen = new Set<string>();
    let out = 0;
    // A queued key is written soon anyway, after its delay: the resync does not hurry it.
    for (const { key, value } of stored) {
      seen.add(key);
      if (statusIn(value) !== this.#wanted.get(key) && !this.#queued.has(key)) {
        this.#dirty.add(key);
        out++;
      }
    }
    for (const key of this.#wanted.keys()) {
      if (!seen.has(key) && !this.#queued.has(key)) {
        this.#dirty.add(key);
        out++;
      }
    }
    if (out > 0) this.#log.info({ outOfSync: out }, 'endpoint statuses out of sync with the datastore; rewriting them');
  }

  async #writeDirty(): Promise<void> {
    for (const key of [...this.#dirty]) {
      const status = this.#wanted.get(key);
      try {
        if (status !== undefined) {
          await this.#o.store.put(key, valueOf(status));
          this.#stats.writes++;
        } else {
          await this.#o.store.delete(key);
          this.#stats.deletes++;
        }
      } catch (err) {
        this.#failed(err, 'cannot write endpoint status; will retry');
        this.#resyncWanted = true; // once it answers again, check everything
        return;
      }
      this.#dirty.delete(key);
    }
    if (this.#failing) {
      this.#failing = false;
      this.#log.info({}, 'endpoint statuses written again');
    }
  }

  #failed(err: unknown, msg: string): void {
    this.#stats.failures++;
    if (!this.#failing) this.#log.warn({ err }, msg);
    this.#failing = true;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#o.clock.setTimeout((self: EndpointStatusReporter) => self.#onTimer(), this.#o.delayMs, this);
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#running = this.tick().finally(() => {
      this.#running = undefined;
      this.#schedule();
    });
  }
}

/** The few EtcdClient calls the adapter below makes. */
export interface EtcdKeyValues {
  put(key: string, value: string): Promise<unknown>;
  deleteRange(key: string): Promise<unknown>;
  range(key: string, options: { prefix: true }): Promise<{ kvs: ReadonlyArray<{ key: Buffer; value: Buffer }> }>;
}

/** An EtcdClient as the reporter's store. */
export function etcdEndpointStatusStore(client: EtcdKeyValues): EndpointStatusStore {
  return {
    put: (key, value) => client.put(key, value),
    delete: (key) => client.deleteRange(key),
    list: async (prefix) => (await client.range(prefix, { prefix: true })).kvs.map((kv) => ({ key: kv.key.toString(), value: kv.value.toString() })),
  };
}
