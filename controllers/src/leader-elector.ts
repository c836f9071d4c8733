/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `leaderelection` does it,
 * so that of any number of kube-controllers replicas exactly one runs the controllers:
 *
 *   candidate ──(Lease free, expired, or ours: PUT/POST wins)──▶ leader ──(stop)──▶ release
 *       ▲                                                          │
 *       └──(another holder seen, or no successful renew for RenewDeadline)──┘
 *
 * Every RetryPeriod each instance reads the Lease. A leader writes renewTime with the
 * resourceVersion it read (a 409 means someone else wrote: no renew this round). A candidate takes
 * the Lease when it has no holder, or when the record (holder, renewTime, resourceVersion) has
 * not changed for LeaseDuration **by this instance's own monotonic clock since it first saw that
 * record** — never by comparing the renewTime written by another machine's clock with ours
 * (client-go's rule, which makes the election immune to clock skew). The write carries the
 * resourceVersion read, so of two candidates only one wins.
 *
 * A leader that could not renew for RenewDeadline (< LeaseDuration) steps down before anyone
 * may take over, so two leaders never overlap while clocks run at the same rate. A clean stop
 * releases the Lease (empty holder, duration 1 s), so a successor takes over at its next try;
 * a crash leaves the Lease to expire.
 *
 * RBAC: get, create, update on `leases` in the Lease's namespace.
 */
import { realClock, silentLogger, type Clock, type Logger, type TimerHandle } from '@cattail/typha/common';
import { kdd } from '@cattail/datastore';

/** The API server calls the elector makes (KubeDatastore has it). */
export interface KubeRequester {
  request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<unknown>;
}

export interface LeaderCallbacks {
  /** Called once on becoming leader; the controllers start here. */
  onStartedLeading(): void | Promise<void>;
  /** Called once on losing or giving up the lead; the controllers stop here (awaited before the Lease is released). */
  onStoppedLeading(): void | Promise<void>;
}

export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock?: Clock;
  /** Wall time for the renewTime/acquireTime a person reads in `kubectl get lease`. */
  now?: () => Date;
  logger?: Logger;
}

interface LeaseObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

export interface LeaderStatus {
  readonly identity: string;
  readonly leader: boolean;
  /** The holder last seen in the Lease ('' when free). */
  readonly holder: string;
  /** Times this instance became leader. */
  readonly acquisitions: number;
  /** Failed reads or writes of the Lease. */
  readonly errors: number;
  /** The last round reached the API server (readiness). */
  readonly reachable: boolean;
}

/** Kubernetes' MicroTime: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function electorTick(e: LeaderElector): void {
  e.tick();
}

export class LeaderElector {
  readonly #api: KubeRequester;
  readonly #opts: Required<Omit<LeaderElectorOptions, 'logger' | 'clock' | 'now'>>;
  readonly #callbacks: LeaderCallbacks;
  readonly #clock: Clock;
  readonly #now: () => Date;
  readonly #log: Logger;
  #leader = false;
  #holder = '';
  #acquisitions = 0;
  #errors = 0;
  #reachable = false;
  /** The record last read and when (our monotonic clock) it was first seen. */
  #observed: { key: string; at: number } | undefined;
  #lastRenew = 0;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  /** Serialises the callbacks, so a stop is never overtaken by a start. */
  #transitions: Promise<void> = Promise.resolve();

  constructor(api: KubeRequester, callbacks: LeaderCallbacks, opts: LeaderElectorOptions) {
    this.#api = api;
    this.#callbacks = callbacks;
    this.#opts = {
      namespace: opts.namespace,
      name: opts.name,
      identity: opts.identity,
      leaseDurationMs: opts.leaseDurationMs,
      renewDeadlineMs: opts.renewDeadlineMs,
      retryPeriodMs: opts.retryPeriodMs,
    };
    this.#clock = opts.clock ?? realClock;
    this.#now = opts.now ?? (() => new Date());
    this.#log = (opts.logger ?? silentLogger).child({ part: 'leader-election', lease: `${opts.namespace}/${opts.name}` });
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  status(): LeaderStatus {
    return {
      identity: this.#opts.identity,
      leader: this.#leader,
      holder: this.#holder,
      acquisitions: this.#acquisitions,
      errors: this.#errors,
      reachable: this.#reachable,
    };
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#log.info({ identity: this.#opts.identity }, 'leader election started');
    this.tick();
  }

  /** One round now (the timer calls it); rounds never overlap. */
  tick(): void {
    if (this.#stopped || this.#running) return;
    this.#running = this.#round().finally(() => {
      this.#running = undefined;
      if (!this.#stopped) this.#timer = this.#clock.setTimeout(electorTick, this.#opts.retryPeriodMs, this);
    });
  }

  /**
   * Stops electing. A leader stops its controllers first, then (with `release`, the default)
   * hands the Lease back so a successor need not wait for it to expire. `release: false` is a
   * crash as the others see it: the Lease runs out.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    await this.#running;
    const wasLeader = this.#leader;
    if (wasLeader) this.#stepDown('stopping');
    await this.#transitions;
    if (wasLeader && opts.release !== false) await this.#release();
  }

  async #round(): Promise<void> {
    let held: boolean;
    try {
      held = await this.#tryAcquireOrRenew();
      this.#reachable = true;
    } catch (err) {
      this.#errors++;
      this.#reachable = false;
      this.#log.warn({ err }, 'cannot read or write the Lease');
      held = false;
    }
    if (this.#stopped) return;
    const now = this.#clock.now();
    if (held) {
      this.#lastRenew = now;
      if (!this.#leader) {
        this.#leader = true;
        this.#acquisitions++;
        this.#log.info({ identity: this.#opts.identity }, 'became leader');
        this.#transition(() => this.#callbacks.onStartedLeading());
      }
    } else if (this.#leader && (this.#holder !== this.#opts.identity || now - this.#lastRenew >= this.#opts.renewDeadlineMs)) {
      this.#stepDown(this.#holder !== this.#opts.identity ? `the Lease is held by ${this.#holder || 'nobody'}` : 'could not renew within the renew deadline');
    }
  }

  #stepDown(why: string): void {
    this.#leader = false;
    const fields = { identity: this.#opts.identity, why };
    if (why === 'stopping') this.#log.info(fields, 'stepped down as leader');
    else this.#log.warn(fields, 'lost the lead: controllers stop');
    this.#transition(() => this.#callbacks.onStoppedLeading());
  }

  #transition(fn: () => void | Promise<void>): void {
    this.#transitions = this.#transitions.then(fn).catch((err: unknown) => this.#log.error({ err }, 'leadership callback failed'));
  }

  #path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#opts.namespace)}/leases`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  #spec(previous: LeaseObject['spec'] | undefined): NonNullable<LeaseObject['spec']> {
    const now = microTime(this.#now());
    const same = previous?.holderIdentity === this.#opts.identity;
    return {
      holderIdentity: this.#opts.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.#opts.leaseDurationMs / 1000)),
      acquireTime: same && previous?.acquireTime ? previous.acquireTime : now,
      renewTime: now,
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (same || previous === undefined ? 0 : 1),
    };
  }

  /** True when this instance holds the Lease after this round. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.#opts;
    const current = (await this.#api.request('GET', this.#path(name)).catch((err: unknown) => {
      if (err instanceof kdd.KubeHttpError && err.statusCode === 404) return undefined;
      throw err;
    })) as LeaseObject | undefined;
    if (current === undefined) {
      try {
        await this.#api.request('POST', this.#path(), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: this.#spec(undefined),
        });
      } catch (err) {
        if (err instanceof kdd.KubeHttpError && err.statusCode === 409) return false; // another instance created it first
        throw err;
      }
      this.#holder = identity;
      return true;
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    this.#holder = holder;
    const key = `${holder}|${spec.renewTime ?? ''}|${current.metadata?.resourceVersion ?? ''}`;
    const now = this.#clock.now();
    if (this.#observed?.key !== key) this.#observed = { key, at: now };
    const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.#opts.leaseDurationMs / 1000)) * 1000;
    if (holder !== '' && holder !== identity && now - this.#observed.at < durationMs) return false;
    try {
      await this.#api.request('PUT', this.#path(name), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace, resourceVersion: current.metadata?.resourceVersion },
        spec: this.#spec(spec),
      });
    } catch (err) {
      if (err instanceof kdd.KubeHttpError && err.statusCode === 409) return false; // someone wrote since our read
      throw err;
    }
    if (holder !== identity) this.#log.info({ previous: holder || undefined }, holder === '' ? 'took the free Lease' : 'took over the expired Lease');
    this.#holder = identity;
    return true;
  }

  /** Hands the Lease back if we still hold it: empty holder, 1 s duration (client-go's ReleaseOnCancel). */
  async #release(): Promise<void> {
    try {
      const current = (await this.#api.request('GET', this.#path(this.#opts.name))) as LeaseObject;
      if (current.spec?.holderIdentity !== this.#opts.identity) return;
      await this.#api.request('PUT', this.#path(this.#opts.name), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.#opts.name, namespace: this.#opts.namespace, resourceVersion: current.metadata?.resourceVersion },
        spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.#now()) },
      });
      this.#holder = '';
      this.#log.info({}, 'released the Lease');
    } catch (err) {
      this.#log.warn({ err }, 'could not release the Lease; it expires by itself');
    }
  }
}
