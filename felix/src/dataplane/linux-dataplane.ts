/**
 * The `linux` dataplane driver: a `DataplaneSink` that keeps the kernel equal to the desired
 * state. Messages only update the desired state and schedule an apply (debounced); an apply
 * reads the ACTUAL state from the kernel and programs only the difference, in batches:
 *
 *   onMessages ─▶ DesiredState ─▶ (debounce) ─▶ apply:
 *      ip -json addr show               host addresses, only while a host endpoint uses expectedIPs
 *      nft model (memoised render)      ≠ the model last programmed ─▶ nft -f - (the delta only)
 *      ip -json -d link show            which interfaces exist (per-endpoint status)
 *      ip -json route show proto 80     ─▶ ip -force -batch -   (VXLAN device, neighbours, routes)
 *      bridge -json fdb show            ─▶ bridge -force -batch -
 *      sysctl -e <keys>                 ─▶ sysctl -w <differences>
 *      the uplinks' MTU (mtu.ts)        ─▶ the MTU file, when it changed (write + rename)
 *
 * A periodic refresh runs the same apply, so drift (a route deleted by hand, a chain flushed)
 * is repaired; with a link monitor (`linkEvents`, link-monitor.ts) a change to an endpoint's
 * interface schedules an apply at once, so its status and routes need not wait for it. The nft
 * step keeps the model of the table it last programmed (nft-model.ts) and sends only the
 * difference from the new one, without reading the kernel; so a change costs
 * what it changes, and a message that changes no nft object (a route) writes nothing. The
 * invariant: after every successful nft write our table equals that model; a failed delta is
 * followed at once by a full resync (the whole table written, then listed), and so are the
 * first apply and each periodic refresh, where the listing is how drift is noticed (see
 * `#applyNft`). Only our objects are read and changed: routes with `proto 80`, our table, the
 * `vxlan.calico` and `vxlan-v6.calico` devices, sysctls of workload interfaces. An endpoint whose interface does not
 * exist yet is reported in `status()` and retried, without holding back the others. Nothing is
 * programmed before the first InSync. Every command goes through the injected `Exec`.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { realClock, type Clock, type TimerHandle } from '@cattail/typha/common';
import type { DataplaneMessage, DataplaneSink } from '../proto/messages.js';
import { applyMessages, emptyDesiredState, vxlanEnabled, vxlanEnabledV6, type DesiredState } from './desired-state.js';
import { endpointStatusReport, type EndpointStatusListener } from './endpoint-status.js';
import { DataplaneCommandError, EndpointNotReadyError } from './errors.js';
import type { Exec } from './exec.js';
import { TABLE_NAME } from './names.js';
import type { LinkEvents } from './link-monitor.js';
import type { HostInterfaces } from './nft-host-endpoints.js';
import { listingObjects, modelChanges, modelDelta, modelText, repairText, type NftModel } from './nft-model.js';
import { nftOptionsFromConfig, renderModel, type NftRenderOptions } from './nft-render.js';
import { RenderCache } from './nft-render-cache.js';
import { desiredRoutes, externalRoutes, parseKernelRoutes, routeBatch, ROUTE_PROTO } from './routes.js';
import { desiredSysctls, parseSysctlOutput, sysctlWrites } from './sysctls.js';
import { desiredVxlan, parseVxlanLink, vxlanCommands, type ActualVxlan } from './vxlan.js';
import { planMtu, type MtuPlan } from './mtu.js';
import { ApplyTimes, dataplaneStats, type DataplaneStats } from './stats.js';

/** Writes `text` to `path` so that a reader sees the old or the new content, never a part. */
export type FileWriter = (path: string, text: string) => Promise<void>;

const atomicWrite: FileWriter = async (path, text) => {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
};

/** The timers of the common Clock that the dataplane uses (debounce, retry, refresh). */
export type DataplaneTimers = Pick<Clock, 'setTimeout' | 'clearTimeout'>;

/** The real timers, unref'd: a pending refresh never keeps the process alive. */
const unrefTimers: DataplaneTimers = {
  setTimeout: (fn, ms, arg) => {
    const t = setTimeout(fn, ms, arg);
    t.unref();
    return t;
  },
  clearTimeout: realClock.clearTimeout,
};

function runTimer(fn: () => void): void {
  fn();
}

export interface LinuxDataplaneOptions {
  exec: Exec;
  /** This node's name, to tell our own VTEP from the others. */
  nodeName: string;
  /** Default: real timers, unref'd. A test passes a FakeClock. */
  clock?: DataplaneTimers;
  /** Delay between a batch of messages and the apply it triggers (coalesces bursts). */
  debounceMs?: number;
  /** Period of the drift-repairing refresh (Calico's RouteRefreshInterval: 90 s). */
  refreshIntervalMs?: number;
  /** Delay before retrying after an endpoint or command error. */
  retryMs?: number;
  /** Milliseconds now, for the route clean-up grace (default Date.now; a test moves it). */
  now?: () => number;
  /** A workload interface's routes from others are left alone this long after it appears (Calico: 10 s). */
  routeCleanupGraceMs?: number;
  /** Where to write the pod MTU for the CNI plugin (Calico: /var/lib/calico/mtu); none: not written. */
  mtuFile?: string;
  /** How the MTU file is written (default: temp file + rename). */
  writeFile?: FileWriter;
  onError?: (err: Error) => void;
  /** Each endpoint's status (up, down, error), after every apply that could read the links. */
  onEndpointStatus?: EndpointStatusListener;
  /**
   * Link events (link-monitor.ts), started by `start()`: a change to an endpoint's interface
   * schedules an apply (after the debounce), so its status and routes follow at once rather
   * than at the next refresh. None: links are read at each apply and refresh only.
   */
  linkEvents?: LinkEvents;
}

export type EndpointStatus = { state: 'ok' } | { state: 'error'; message: string; error: Error };

export interface ApplyReport {
  /** Our table changed: a delta went in, or a resync's write left a different listing. */
  nftApplied: boolean;
  /**
   * What was written to our table: nothing, the delta from the last programmed model, a resync's
   * rewrite of the objects that drifted or changed since the last listing, or all of it.
   */
  nftWrite: 'none' | 'delta' | 'repair' | 'full';
  /** This apply did a full resync (start, refresh, an inexpressible change or a failed delta). */
  nftResync: boolean;
  /** The delta transaction that failed (the kernel refused it) before this apply's full resync. */
  nftDeltaError?: Error;
  ipCommands: string[];
  bridgeCommands: string[];
  sysctlWrites: string[];
  /** The MTU worked out from the uplinks, and whether the MTU file was (re)written. */
  mtu: MtuPlan;
  mtuFileWritten: boolean;
  errors: Error[];
}

export class LinuxDataplane implements DataplaneSink {
  readonly #exec: Exec;
  readonly #nodeName: string;
  readonly #timers: DataplaneTimers;
  readonly #debounceMs: number;
  #refreshMs: number;
  readonly #retryMs: number;
  readonly #onError: ((err: Error) => void) | undefined;
  readonly #onEndpointStatus: EndpointStatusListener | undefined;
  readonly #linkEvents: LinkEvents | undefined;
  readonly #applyTimes = new ApplyTimes();
  readonly #mtuFile: string | undefined;
  readonly #writeFile: FileWriter;
  readonly #now: () => number;
  readonly #graceMs: number;
  /** When each workload interface was first seen (for the route clean-up grace). */
  readonly #ifaceFirstSeen = new Map<string, number>();
  #mtuWritten: string | undefined;
  readonly #state: DesiredState = emptyDesiredState();
  #status = new Map<string, EndpointStatus>();
  /** What our table holds after our last successful nft write; undefined: unknown (resync). */
  #model: NftModel | undefined;
  /** The objects of the table's listing after the last resync (listingObjects); undefined: none. */
  #listed: Map<string, string> | undefined;
  /** Objects (`set X`, `chain X`) deltas wrote since that listing. */
  readonly #touched = new Set<string>();
  /** The next apply does a full resync (set by the periodic refresh). */
  #resyncDue = false;
  readonly #cache = new RenderCache();
  #timer: TimerHandle | undefined;
  /** When the pending #timer fires (in #now() time). */
  #timerDue = 0;
  #refreshTimer: TimerHandle | undefined;
  #running: Promise<ApplyReport> | undefined;
  #next: Promise<ApplyReport> | undefined;
  #closed = false;
  #lastReport: ApplyReport | undefined;

  constructor(opts: LinuxDataplaneOptions) {
    this.#exec = opts.exec;
    this.#nodeName = opts.nodeName;
    this.#timers = opts.clock ?? unrefTimers;
    this.#debounceMs = opts.debounceMs ?? 50;
    this.#refreshMs = opts.refreshIntervalMs ?? 90_000;
    this.#retryMs = opts.retryMs ?? 1_000;
    this.#onError = opts.onError;
    this.#onEndpointStatus = opts.onEndpointStatus;
    this.#linkEvents = opts.linkEvents;
    this.#mtuFile = opts.mtuFile || undefined;
    this.#writeFile = opts.writeFile ?? atomicWrite;
    this.#now = opts.now ?? Date.now;
    this.#graceMs = opts.routeCleanupGraceMs ?? 10_000;
  }

  /** Starts the periodic refresh and the link events. */
  start(): void {
    this.#scheduleRefresh();
    this.#linkEvents?.start(this.#onLink);
  }

  /** A link changed (or events may have been missed: undefined): an apply if it is one of ours. */
  readonly #onLink = (name: string | undefined): void => {
    if (name === undefined || this.#isEndpointInterface(name)) this.#schedule(this.#debounceMs);
  };

  #isEndpointInterface(name: string): boolean {
    for (const { endpoint } of this.#state.workloads.values()) if (endpoint.name === name) return true;
    for (const hep of this.#state.hostEndpoints.values()) if (hep.name === name) return true;
    return false;
  }

  /** A new drift-refresh period: the pending refresh is rescheduled to it (from now). */
  setRefreshInterval(ms: number): void {
    this.#refreshMs = ms;
    if (this.#refreshTimer === undefined) return;
    this.#timers.clearTimeout(this.#refreshTimer);
    this.#scheduleRefresh();
  }

  close(): void {
    this.#closed = true;
    this.#linkEvents?.close();
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    if (this.#refreshTimer !== undefined) this.#timers.clearTimeout(this.#refreshTimer);
    this.#timer = this.#refreshTimer = undefined;
  }

  onMessages(msgs: DataplaneMessage[]): void {
    if (applyMessages(this.#state, msgs)) this.#schedule(this.#debounceMs);
  }

  /** Per workload endpoint (`namespace/name`): ok, or why it is not programmed yet. */
  status(): ReadonlyMap<string, EndpointStatus> {
    return this.#status;
  }

  get desiredState(): Readonly<DesiredState> {
    return this.#state;
  }

  get lastReport(): ApplyReport | undefined {
    return this.#lastReport;
  }

  /** Counts for `/metrics`. */
  stats(): DataplaneStats {
    return dataplaneStats(this.#state, this.#applyTimes);
  }

  /**
   * Applies now (or right after the apply in progress) and resolves with what it did. Applies
   * never overlap; concurrent callers share the next run.
   */
  apply(): Promise<ApplyReport> {
    if (this.#timer !== undefined) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#running) {
      this.#next ??= this.#running.then(() => {
        this.#next = undefined;
        return this.apply();
      });
      return this.#next;
    }
    const run = this.#applyOnce().finally(() => {
      this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  /** The drift repair the refresh timer runs: an apply that re-reads everything (nft: a full resync). */
  refresh(): Promise<ApplyReport> {
    this.#resyncDue = true;
    return this.apply();
  }

  /**
   * An apply in `ms`, or sooner if one is already due sooner. A later wish never delays an
   * earlier one, and an earlier one replaces a later one: a route clean-up waiting out its 10 s
   * grace must not hold back a policy change that wants its apply in 20 ms.
   */
  #schedule(ms: number): void {
    if (this.#closed) return;
    const due = this.#now() + ms;
    if (this.#timer !== undefined) {
      if (this.#timerDue <= due) return;
      this.#timers.clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = this.#timers.setTimeout(runTimer, ms, this.#onDebounce);
  }

  readonly #onDebounce = (): void => {
    this.#timer = undefined;
    this.apply().catch((err: unknown) => this.#report(err));
  };

  #scheduleRefresh(): void {
    if (this.#closed) return;
    this.#refreshTimer = this.#timers.setTimeout(runTimer, this.#refreshMs, this.#onRefresh);
  }

  readonly #onRefresh = (): void => {
    this.#refreshTimer = undefined; // while it runs, a new interval applies to the next one
    this.refresh()
      .catch((err: unknown) => this.#report(err))
      .finally(() => this.#scheduleRefresh());
  };

  #report(err: unknown): void {
    this.#onError?.(err instanceof Error ? err : new Error(String(err)));
  }

  async #applyOnce(): Promise<ApplyReport> {
    const report: ApplyReport = {
      nftApplied: false,
      nftWrite: 'none',
      nftResync: false,
      ipCommands: [],
      bridgeCommands: [],
      sysctlWrites: [],
      mtu: {},
      mtuFileWritten: false,
      errors: [],
    };
    if (!this.#state.inSync) return report;
    const started = performance.now();
    const step = async (fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        report.errors.push(err instanceof Error ? err : new Error(String(err)));
      }
    };

    // nft first: it needs nothing read from the kernel, so a policy change is not kept waiting.
    const nftOptions = nftOptionsFromConfig(this.#state.config);
    await step(() => this.#applyNft(report, nftOptions));
    let links: Array<Record<string, unknown>> = [];
    let linksRead = false;
    await step(async () => {
      links = JSON.parse((await this.#exec('ip', ['-json', '-d', 'link', 'show'])).stdout || '[]') as Array<Record<string, unknown>>;
      linksRead = true;
    });
    const ready = new Set(links.map((l) => String(l.ifname)));
    this.#updateStatus(ready);
    report.mtu = planMtu(links, this.#state.config, vxlanEnabled(this.#state), nftOptions.interfacePrefixes, vxlanEnabledV6(this.#state));

    await step(() => this.#applyLinksAndRoutes(report, links, ready, nftOptions.interfacePrefixes));
    await step(() => this.#applySysctls(report, ready));
    const programmed = report.errors.length === 0; // the MTU file is not an endpoint's
    await step(() => this.#applyMtuFile(report));
    if (linksRead) this.#onEndpointStatus?.(endpointStatusReport(this.#state, links, !programmed));

    for (const err of report.errors) this.#onError?.(err);
    const endpointErrors = [...this.#status.values()].some((s) => s.state === 'error');
    if (report.errors.length > 0 || endpointErrors) this.#schedule(this.#retryMs);
    this.#lastReport = report;
    this.#applyTimes.observe((performance.now() - started) / 1000);
    return report;
  }

  #updateStatus(ready: ReadonlySet<string>): void {
    const next = new Map<string, EndpointStatus>();
    for (const [key, { endpoint }] of this.#state.workloads) {
      if (ready.has(endpoint.name)) {
        next.set(key, { state: 'ok' });
      } else {
        const error = new EndpointNotReadyError(key, `interface ${endpoint.name} does not exist`);
        next.set(key, { state: 'error', message: error.message, error });
      }
    }
    this.#status = next;
  }

  async #listTable(): Promise<string> {
    try {
      return (await this.#exec('nft', ['list', 'table', 'inet', TABLE_NAME])).stdout;
    } catch (err) {
      if (err instanceof DataplaneCommandError && /No such file or directory/i.test(err.stderr)) return '';
      throw err;
    }
  }

  /**
   * The host's interfaces and addresses, read only while some host endpoint is found by
   * expectedIPs (an address that appears later is picked up by the next apply or refresh).
   */
  async #hostInterfaces(): Promise<HostInterfaces | undefined> {
    const wanted = [...this.#state.hostEndpoints.values()].some((h) => h.name === undefined || h.name === '');
    if (!wanted) return undefined;
    const links = JSON.parse((await this.#exec('ip', ['-json', 'addr', 'show'])).stdout || '[]') as Array<{
      ifname?: string;
      addr_info?: Array<{ local?: string }>;
    }>;
    const out = new Map<string, string[]>();
    for (const l of links) {
      if (typeof l.ifname !== 'string') continue;
      out.set(
        l.ifname,
        (l.addr_info ?? []).map((a) => a.local).filter((a): a is string => typeof a === 'string'),
      );
    }
    return out;
  }

  /**
   * The nft step. Hot path: render the model (memoised) and send only its difference from the
   * model this Felix last programmed, without reading the kernel. A full resync (list the
   * table; when it is not what our last whole-table write left, or deltas went in since, write
   * the whole table and list it again) runs at the first apply, on the periodic refresh, when a
   * delta cannot express the change, and at once when a delta transaction fails.
   */
  async #applyNft(report: ApplyReport, options: NftRenderOptions): Promise<void> {
    const model = renderModel(this.#state, options, await this.#hostInterfaces(), this.#cache);
    const resync = this.#resyncDue || this.#model === undefined;
    this.#resyncDue = false;
    if (!resync && this.#model !== undefined) {
      const delta = modelDelta(this.#model, model);
      if (delta === '') return;
      if (delta !== undefined) {
        try {
          await this.#exec('nft', ['-f', '-'], delta);
          for (const key of modelChanges(this.#model, model)) this.#touched.add(key);
          this.#model = model;
          report.nftApplied = true;
          report.nftWrite = 'delta';
          return;
        } catch (err) {
          report.nftDeltaError = err instanceof Error ? err : new Error(String(err));
        }
      }
    }
    await this.#resync(model, report);
  }

  /**
   * Lists the table and compares it, object by object, with the listing our last resync left:
   * what differs (drift), what deltas wrote since (their listing is not known) and what the new
   * model changes are rewritten in place (`repairText`), then the table is listed again for the
   * next resync. Without a model or a usable listing (start, a failed write, the table gone or
   * holding objects we never make), the whole table is written instead.
   */
  async #resync(model: NftModel, report: ApplyReport): Promise<void> {
    report.nftResync = true;
    const before = this.#model !== undefined ? listingObjects(await this.#listTable()) : undefined;
    const previous = this.#model;
    this.#model = undefined; // until the kernel is known to hold `model`
    const listed = this.#listed;
    this.#listed = undefined;
    // A base chain's hook or priority cannot be changed in place (the kernel refuses it): when
    // one moves (chainInsertMode), the whole table is written, which re-registers every chain.
    const baseMoved =
      previous !== undefined &&
      [...model.chains].some(
        ([name, c]) =>
          c.lines[0]?.startsWith('type ') && previous.chains.get(name)?.lines[0]?.startsWith('type ') && previous.chains.get(name)?.lines[0] !== c.lines[0],
      );
    if (before !== undefined && listed !== undefined && previous !== undefined && !baseMoved) {
      const suspects = new Set([...this.#touched, ...modelChanges(previous, model)]);
      for (const [key, text] of before) if (listed.get(key) !== text) suspects.add(key);
      for (const key of listed.keys()) if (!before.has(key)) suspects.add(key);
      const repair = repairText(model, suspects, before);
      if (repair !== '') {
        await this.#exec('nft', ['-f', '-'], repair);
        report.nftWrite = 'repair';
      }
    } else {
      await this.#exec('nft', ['-f', '-'], modelText(model));
      report.nftWrite = 'full';
    }
    this.#model = model;
    this.#touched.clear();
    if (report.nftWrite === 'none') {
      this.#listed = before;
      return;
    }
    const after = listingObjects(await this.#listTable());
    this.#listed = after;
    report.nftApplied = before === undefined || after === undefined || !sameObjects(before, after);
  }

  async #readVxlan(links: Array<Record<string, unknown>>, name: string, family: '-4' | '-6'): Promise<ActualVxlan> {
    const device = parseVxlanLink(links, name);
    const actual: ActualVxlan = { addresses: [], neighbours: [], fdb: [] };
    if (!device) return actual;
    actual.device = device;
    const json = async (file: string, args: string[]): Promise<Array<Record<string, unknown>>> =>
      JSON.parse((await this.#exec(file, args)).stdout || '[]') as Array<Record<string, unknown>>;
    const addrs = await json('ip', ['-json', family, 'addr', 'show', 'dev', name]);
    for (const a of addrs) {
      for (const info of (a.addr_info as Array<{ local: string; prefixlen: number }> | undefined) ?? []) {
        actual.addresses.push(`${info.local}/${info.prefixlen}`);
      }
    }
    for (const n of await json('ip', ['-json', family, 'neigh', 'show', 'dev', name])) {
      // IPv6 neighbour discovery makes entries of its own on the device; ours are the permanent ones.
      if (family === '-6' && !(Array.isArray(n.state) && n.state.includes('PERMANENT'))) continue;
      const entry: { ip: string; mac?: string } = { ip: String(n.dst) };
      if (typeof n.lladdr === 'string') entry.mac = n.lladdr;
      actual.neighbours.push(entry);
    }
    for (const f of await json('bridge', ['-json', 'fdb', 'show', 'dev', name])) {
      const entry: { mac: string; dst?: string } = { mac: String(f.mac) };
      if (typeof f.dst === 'string') entry.dst = f.dst;
      actual.fdb.push(entry);
    }
    return actual;
  }

  async #applyLinksAndRoutes(report: ApplyReport, links: Array<Record<string, unknown>>, ready: Set<string>, workloadPrefixes: string[]): Promise<void> {
    const ip: string[] = [];
    const bridge: string[] = [];
    const goes = new Set<string>();
    for (const [family, flag, mtu] of [
      [4, '-4', report.mtu.vxlanMtu],
      [6, '-6', report.mtu.vxlanMtuV6],
    ] as const) {
      const desired = desiredVxlan(this.#state, this.#nodeName, mtu, family);
      const vx = vxlanCommands(desired, await this.#readVxlan(links, desired.name, flag));
      const made = vx.ip.some((l) => l.startsWith(`link add ${desired.name} `));
      if (made) ready.add(desired.name);
      // Deleting a device (to remake it with a new VNI, port or local address) takes its routes with it.
      if (vx.ip.includes(`link del ${desired.name}`)) {
        goes.add(desired.name);
        if (!made) ready.delete(desired.name);
      }
      ip.push(...vx.ip);
      bridge.push(...vx.bridge);
    }
    const read = [
      ...parseKernelRoutes((await this.#exec('ip', ['-json', '-4', 'route', 'show', 'proto', String(ROUTE_PROTO)])).stdout),
      ...parseKernelRoutes((await this.#exec('ip', ['-json', '-6', 'route', 'show', 'proto', String(ROUTE_PROTO)])).stdout),
    ];
    const actual = read.filter((r) => r.dev === undefined || !goes.has(r.dev));
    const vx = { ip, bridge };
    const external = await this.#externalRouteDeletes(ready, workloadPrefixes);
    const lines = [...vx.ip, ...external, ...routeBatch(desiredRoutes(this.#state, ready), actual)];
    report.ipCommands = lines;
    report.bridgeCommands = vx.bridge;
    if (lines.length > 0) await this.#exec('ip', ['-force', '-batch', '-'], `${lines.join('\n')}\n`);
    if (vx.bridge.length > 0) await this.#exec('bridge', ['-force', '-batch', '-'], `${vx.bridge.join('\n')}\n`);
  }

  /**
   * FelixConfiguration removeExternalRoutes (default true): `route del` lines for others' routes on
   * workload interfaces that have been there for the grace period; a later apply is scheduled
   * for those still in it.
   */
  async #externalRouteDeletes(present: ReadonlySet<string>, prefixes: readonly string[]): Promise<string[]> {
    const now = this.#now();
    for (const name of [...this.#ifaceFirstSeen.keys()]) if (!present.has(name)) this.#ifaceFirstSeen.delete(name);
    for (const name of present) if (prefixes.some((p) => name.startsWith(p)) && !this.#ifaceFirstSeen.has(name)) this.#ifaceFirstSeen.set(name, now);
    if (this.#state.config.removeExternalRoutes === false) return [];
    const lines: string[] = [];
    let wait: number | undefined;
    for (const family of ['-4', '-6']) {
      for (const r of externalRoutes((await this.#exec('ip', ['-json', family, 'route', 'show', 'table', 'main'])).stdout, prefixes)) {
        const left = (this.#ifaceFirstSeen.get(r.dev) ?? now) + this.#graceMs - now;
        if (left <= 0) lines.push(`route del ${r.dst} dev ${r.dev}`);
        else wait = Math.min(wait ?? left, left);
      }
    }
    if (wait !== undefined) this.#schedule(wait);
    return lines;
  }

  /** Writes the pod MTU when it is known and differs from what this process last wrote. */
  async #applyMtuFile(report: ApplyReport): Promise<void> {
    const mtu = report.mtu.podMtu;
    if (this.#mtuFile === undefined || mtu === undefined) return;
    const text = `${mtu}\n`;
    if (text === this.#mtuWritten) return;
    await this.#writeFile(this.#mtuFile, text);
    this.#mtuWritten = text;
    report.mtuFileWritten = true;
  }

  async #applySysctls(report: ApplyReport, ready: ReadonlySet<string>): Promise<void> {
    const desired = desiredSysctls(this.#state, ready);
    if (desired.size === 0) return;
    const actual = parseSysctlOutput((await this.#exec('sysctl', ['-e', ...desired.keys()])).stdout);
    const writes = sysctlWrites(desired, actual);
    report.sysctlWrites = writes;
    if (writes.length > 0) await this.#exec('sysctl', ['-q', '-w', ...writes]);
  }
}

function sameObjects(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
