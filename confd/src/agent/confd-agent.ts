/**
 * ConfdAgent: keeps BIRD's configuration in step with the datastore.
 *
 *   SyncClient(bgp) ─onUpdates─▶ BgpModelStore ─changed─▶ debounce ─▶ reconcile:
 *      render ─▶ same as the live file? ─yes─▶ nothing (no reload)
 *                  │ no
 *                  ▼
 *      write .candidate ─▶ bird -p -c candidate ─fail─▶ discard; BIRD untouched
 *                  │ ok
 *                  ▼
 *      rename over the live file ─▶ birdc configure ─refused─▶ restore the last good file
 *
 * Every failure keeps the running BIRD on its last good configuration; it is logged, counted by
 * stage (render, check, write, reload) and shown in status() until a later reconcile succeeds.
 * A reconcile also runs every `reconcileIntervalMs`, which retries a failed or unreachable
 * reload and picks up rotated password files; an unchanged render costs no reload.
 *
 * Nothing is rendered before the syncer's first in-sync (a half-received snapshot would drop
 * peers), nor while a later resync is under way: BIRD keeps what it has, as Felix keeps the
 * dataplane, until the model is whole again. Timers go through the injected Clock.
 */
import type { ClientCallbacks, ClientStatus, StatusDetail, SyncerUpdate } from '@cattail/typha/client';
import { realClock, silentLogger, type Clock, type Logger, type TimerHandle } from '@cattail/typha/common';
import { BirdUnreachableError, ConfdError, ConfigCheckError, ReloadRejectedError, RenderError, errorMessage } from '../errors.js';
import { BgpModelStore } from '../model/bgp-model.js';
import { renderBirdConfig, type SecretReader } from '../render/bird-config.js';
import type { BirdControl } from './bird-control.js';
import { candidatePath, discard, readConfigFile, renameOver, writeSynced } from './config-file.js';

export type FailureStage = 'render' | 'check' | 'write' | 'reload';
export type ApplyResult = 'installed' | 'reloaded' | 'unchanged' | 'failed' | 'skipped';

export interface ConfdAgentOptions {
  nodeName: string;
  /** The live BIRD configuration file: the path BIRD was started with (`bird -c`). */
  configFile: string;
  bird: BirdControl;
  readSecret?: SecretReader;
  /** CALICO_ROUTER_ID: an IPv4 address, `hash`, or empty (the node's IPv4 BGP address). */
  routerId?: string;
  /**
   * How long changes are collected before a render: the first change after a render starts the
   * window, later ones ride along, so a steady stream of updates still renders every window.
   * Default 100.
   */
  debounceMs?: number;
  /** Periodic reconcile and retry interval; 0 turns the periodic run off. Default 30000. */
  reconcileIntervalMs?: number;
  clock?: Clock;
  /** Epoch milliseconds, for timestamps people read. */
  wallClock?: () => number;
  logger?: Logger;
}

export interface ConfdCounters {
  renders: number;
  unchanged: number;
  installs: number;
  reloads: number;
  failures: Record<FailureStage, number>;
  applySecondsSum: number;
  applyCount: number;
}

export interface ConfdStatus {
  node: string;
  sync: { status: ClientStatus | 'idle'; revision: number; everInSync: boolean; server?: string };
  config: {
    path: string;
    /** A configuration BIRD accepted (or found on disk at start) exists. */
    installed: boolean;
    /** The file is newer than what BIRD last accepted (BIRD unreachable so far). */
    reloadPending: boolean;
    sessions: number;
    lastChangeAt?: string;
    lastReloadAt?: string;
  };
  lastResult: ApplyResult | undefined;
  lastError?: { code: string; stage: FailureStage; message: string; at: string };
  counters: ConfdCounters;
}

function stageOf(err: unknown): FailureStage {
  if (err instanceof RenderError) return 'render';
  if (err instanceof ConfigCheckError) return 'check';
  if (err instanceof ConfdError && err.code === 'CONFD_WRITE_FAILED') return 'write';
  if (err instanceof ConfdError && err.code !== 'CONFD_INTERNAL') return 'reload';
  return 'render';
}

function onTimer(agent: ConfdAgent): void {
  agent.timerFired();
}

export class ConfdAgent implements ClientCallbacks<'bgp'> {
  readonly #o: Required<Omit<ConfdAgentOptions, 'readSecret'>> & { readSecret: SecretReader | undefined };
  readonly #log: Logger;
  readonly #store: BgpModelStore;
  #syncStatus: ClientStatus | 'idle' = 'idle';
  #server: string | undefined;
  #revision = 0;
  #everInSync = false;
  /** The live file's text as we last wrote or read it. */
  #onDisk: string | undefined;
  /** The last text BIRD accepted (or the file found at start). */
  #lastGood: string | undefined;
  /** A candidate bird -p refused, and why: not re-checked until the render changes. */
  #rejected: { text: string; error: ConfdError } | undefined;
  #sessions = 0;
  #lastChangeAt: number | undefined;
  #lastReloadAt: number | undefined;
  #lastResult: ApplyResult | undefined;
  #lastError: { error: ConfdError; stage: FailureStage; at: number } | undefined;
  #timer: TimerHandle | undefined;
  #timerDue = Infinity;
  #running: Promise<ApplyResult> | undefined;
  #again = false;
  #closed = false;
  readonly #counters: ConfdCounters = {
    renders: 0,
    unchanged: 0,
    installs: 0,
    reloads: 0,
    failures: { render: 0, check: 0, write: 0, reload: 0 },
    applySecondsSum: 0,
    applyCount: 0,
  };

  constructor(o: ConfdAgentOptions) {
    this.#o = {
      nodeName: o.nodeName,
      configFile: o.configFile,
      bird: o.bird,
      readSecret: o.readSecret,
      routerId: o.routerId ?? '',
      debounceMs: o.debounceMs ?? 100,
      reconcileIntervalMs: o.reconcileIntervalMs ?? 30_000,
      clock: o.clock ?? realClock,
      wallClock: o.wallClock ?? Date.now,
      logger: o.logger ?? silentLogger,
    };
    this.#log = this.#o.logger;
    this.#store = new BgpModelStore({ node: o.nodeName });
  }

  /** Reads the live file, so an unchanged first render reloads nothing. Call before the client starts. */
  async start(): Promise<void> {
    this.#onDisk = await readConfigFile(this.#o.configFile);
    this.#lastGood = this.#onDisk;
    this.#log.info({ path: this.#o.configFile, existing: this.#onDisk !== undefined }, 'confd agent started');
  }

  onStatus(status: ClientStatus, detail: StatusDetail): void {
    this.#syncStatus = status;
    this.#revision = detail.revision;
    if (detail.server !== undefined) this.#server = detail.server;
    if (status === 'in-sync') {
      this.#everInSync = true;
      this.#schedule(this.#o.debounceMs);
    }
  }

  onUpdates(updates: SyncerUpdate<'bgp'>[], revision: number): void {
    this.#revision = revision;
    if (this.#store.apply(updates) && this.#syncStatus === 'in-sync') this.#schedule(this.#o.debounceMs);
  }

  /** Ready: synced once and BIRD runs a configuration of ours (Felix-style readiness). */
  get ready(): boolean {
    return !this.#closed && this.#everInSync && this.#lastGood !== undefined && !this.#pendingReload;
  }

  get #pendingReload(): boolean {
    return this.#onDisk !== this.#lastGood;
  }

  status(): ConfdStatus {
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    const e = this.#lastError;
    return {
      node: this.#o.nodeName,
      sync: { status: this.#syncStatus, revision: this.#revision, everInSync: this.#everInSync, ...(this.#server ? { server: this.#server } : {}) },
      config: {
        path: this.#o.configFile,
        installed: this.#lastGood !== undefined,
        reloadPending: this.#pendingReload,
        sessions: this.#sessions,
        ...(this.#lastChangeAt !== undefined ? { lastChangeAt: iso(this.#lastChangeAt) } : {}),
        ...(this.#lastReloadAt !== undefined ? { lastReloadAt: iso(this.#lastReloadAt) } : {}),
      },
      lastResult: this.#lastResult,
      ...(e ? { lastError: { code: e.error.code, stage: e.stage, message: e.error.message, at: iso(e.at) as string } } : {}),
      counters: { ...this.#counters, failures: { ...this.#counters.failures } },
    };
  }

  /** Reconcile now (tests, SIGHUP); resolves when this or the already running pass ends. */
  async reconcileNow(): Promise<ApplyResult> {
    if (this.#running) await this.#running;
    return this.#reconcile();
  }

  /** Resolves once no reconcile is running (after a timer fired, or before shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelTimer();
    await this.#running;
  }

  /** @internal the clock's callback. */
  timerFired(): void {
    this.#timer = undefined;
    this.#timerDue = Infinity;
    void this.#reconcile();
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    const due = this.#o.clock.now() + delayMs;
    if (this.#timer !== undefined && this.#timerDue <= due) return;
    this.#cancelTimer();
    this.#timerDue = due;
    this.#timer = this.#o.clock.setTimeout(onTimer, delayMs, this);
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Infinity;
  }

  async #reconcile(): Promise<ApplyResult> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    if (this.#closed) return 'skipped';
    if (!this.#everInSync || this.#syncStatus !== 'in-sync') return 'skipped'; // in-sync schedules us again
    this.#running = this.#apply();
    let result: ApplyResult;
    try {
      result = await this.#running;
    } finally {
      this.#running = undefined;
    }
    if (this.#again) {
      this.#again = false;
      this.#schedule(this.#o.debounceMs);
    } else if (this.#o.reconcileIntervalMs > 0) {
      this.#schedule(this.#o.reconcileIntervalMs);
    }
    return result;
  }

  async #apply(): Promise<ApplyResult> {
    const started = this.#o.clock.now();
    const result = await this.#applyOnce();
    this.#counters.applySecondsSum += (this.#o.clock.now() - started) / 1000;
    this.#counters.applyCount++;
    this.#lastResult = result;
    return result;
  }

  async #applyOnce(): Promise<ApplyResult> {
    this.#counters.renders++;
    let text = '';
    try {
      const r = renderBirdConfig(this.#store.model(), this.#o.nodeName, this.#o.readSecret, this.#o.routerId);
      text = r.text;
      if (r.problems.length) throw new RenderError(r.problems);
      if (r.text === this.#onDisk && !this.#pendingReload) {
        this.#sessions = r.sessions; // also right for a file adopted at start
        this.#counters.unchanged++;
        this.#succeeded();
        return 'unchanged';
      }
      if (this.#rejected?.text === r.text) return 'failed'; // bird -p refused this very text: no new check, no new log line
      let installed = false;
      if (r.text !== this.#onDisk) {
        await this.#install(r.text);
        this.#sessions = r.sessions;
        installed = true;
      }
      await this.#reload();
      this.#succeeded();
      return installed ? 'installed' : 'reloaded';
    } catch (err) {
      return this.#failed(err, text);
    }
  }

  async #install(text: string): Promise<void> {
    const candidate = candidatePath(this.#o.configFile);
    await writeSynced(candidate, text);
    try {
      await this.#o.bird.check(candidate);
    } catch (err) {
      await discard(candidate).catch(() => undefined);
      throw err;
    }
    await renameOver(candidate, this.#o.configFile);
    this.#onDisk = text;
    this.#lastChangeAt = this.#o.wallClock();
    this.#counters.installs++;
    this.#log.info({ path: this.#o.configFile, bytes: text.length, revision: this.#revision }, 'installed a new BIRD configuration');
  }

  async #reload(): Promise<void> {
    try {
      const reply = await this.#o.bird.configure();
      this.#lastGood = this.#onDisk;
      this.#lastReloadAt = this.#o.wallClock();
      this.#counters.reloads++;
      this.#log.info({ reply }, 'BIRD reconfigured');
    } catch (err) {
      if (err instanceof ReloadRejectedError && this.#lastGood !== undefined && this.#lastGood !== this.#onDisk) {
        // BIRD refused what bird -p accepted (another BIRD version?): put the good file back so a
        // BIRD restart reads what is running now.
        const candidate = candidatePath(this.#o.configFile);
        await writeSynced(candidate, this.#lastGood);
        await renameOver(candidate, this.#o.configFile);
        this.#onDisk = this.#lastGood;
      }
      throw err;
    }
  }

  #succeeded(): void {
    if (this.#lastError) this.#log.info({ previous: this.#lastError.error.code }, 'BIRD configuration is up to date again');
    this.#lastError = undefined;
    this.#rejected = undefined;
  }

  #failed(err: unknown, text: string): ApplyResult {
    const error = err instanceof ConfdError ? err : new ConfdError('CONFD_INTERNAL', errorMessage(err), { cause: err });
    const stage = stageOf(error);
    this.#counters.failures[stage]++;
    this.#lastError = { error, stage, at: this.#o.wallClock() };
    if (error instanceof ConfigCheckError) this.#rejected = { text, error };
    if (error instanceof BirdUnreachableError) {
      this.#log.warn({ err: error, stage, code: error.code }, 'BIRD did not answer; the new file is in place and the reload will be retried');
    } else {
      this.#log.error({ err: error, stage, code: error.code }, `BIRD configuration not applied (${stage}); BIRD keeps its last good configuration`);
    }
    return 'failed';
  }
}
