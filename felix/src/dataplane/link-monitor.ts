/**
 * Link monitor: a long-lived `ip -o monitor link` child in the dataplane's network namespace,
 * so a workload interface going down, up or away is noticed when it happens rather than at the
 * next periodic refresh (Calico's Felix has an interface monitor on netlink for the same
 * reason: its endpoint status reporter says "down" as soon as the interface is).
 *
 *   ip [-n NETNS] -o monitor link ──stdout lines──▶ parseLinkEvent ──▶ onLink(name)
 *        │ exits / fails to start                                     (the driver schedules
 *        └──▶ onError, restart after restartMs ──▶ onLink(undefined)    an apply)
 *
 * `onLink(undefined)` means "events may have been missed" (each (re)start: the child subscribes
 * a moment after it is spawned), so the listener re-reads everything. One event per line: `-o`
 * folds each message onto one line (`3: cali1@if2: <…,UP,LOWER_UP> … state UP …`, or
 * `Deleted 3: …`). The rejected alternative, netlink from Node, needs a native addon; `ip` is
 * already a dependency of the driver. The child is killed by its own PID on close.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DataplaneCommandError } from './errors.js';
import type { DataplaneTimers } from './linux-dataplane.js';

/** The link an `ip -o monitor link` line is about; undefined for anything else. */
export function parseLinkEvent(line: string): { name: string; deleted: boolean } | undefined {
  const m = /^(Deleted )?\d+: ([^:@\s]+)(?:@[^:\s]*)?:/.exec(line);
  return m ? { name: m[2], deleted: m[1] !== undefined } : undefined;
}

/** What the Linux driver needs from a link monitor (it declares the seam; tests pass a fake). */
export interface LinkEvents {
  /** `onLink(name)` per event; `onLink(undefined)` when events may have been missed. */
  start(onLink: (name: string | undefined) => void): void;
  close(): void;
}

/** Starts a long-lived process with piped stdio (a test passes one that fails or exits). */
export type Spawn = (file: string, args: readonly string[]) => ChildProcessWithoutNullStreams;

const processSpawn: Spawn = (file, args) => spawn(file, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });

export interface LinkMonitorOptions {
  /** Network namespace to watch (`ip -n`); default the process's own. */
  netns?: string;
  /** Delay before restarting a child that exited (default 1 s). */
  restartMs?: number;
  timers?: DataplaneTimers;
  spawn?: Spawn;
  onError?: (err: Error) => void;
}

export class LinkMonitor implements LinkEvents {
  readonly #argv: readonly string[];
  readonly #restartMs: number;
  readonly #timers: DataplaneTimers;
  readonly #spawn: Spawn;
  readonly #onError: ((err: Error) => void) | undefined;
  #onLink: ((name: string | undefined) => void) | undefined;
  #child: ChildProcessWithoutNullStreams | undefined;
  #restart: ReturnType<DataplaneTimers['setTimeout']> | undefined;
  #closed = false;
  /** Children started so far (the first and each restart). */
  starts = 0;

  constructor(opts: LinkMonitorOptions = {}) {
    this.#argv = [...(opts.netns ? ['-n', opts.netns] : []), '-o', 'monitor', 'link'];
    this.#restartMs = opts.restartMs ?? 1_000;
    this.#timers = opts.timers ?? { setTimeout: (fn, ms, arg) => setTimeout(fn, ms, arg).unref(), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
    this.#spawn = opts.spawn ?? processSpawn;
    this.#onError = opts.onError;
  }

  start(onLink: (name: string | undefined) => void): void {
    if (this.#onLink) throw new Error('LinkMonitor already started');
    this.#onLink = onLink;
    this.#run();
  }

  /** The PID of the running child (a test kills it to check the restart). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  close(): void {
    this.#closed = true;
    if (this.#restart !== undefined) this.#timers.clearTimeout(this.#restart);
    this.#restart = undefined;
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }

  #run(): void {
    if (this.#closed) return;
    this.starts++;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = this.#spawn('ip', this.#argv);
    } catch (err) {
      this.#failed(new DataplaneCommandError(['ip', ...this.#argv], String(err), { cause: err }));
      return;
    }
    this.#child = child;
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const ev = parseLinkEvent(line);
      if (ev && this.#child === child) this.#onLink?.(ev.name);
    });
    let gone = false;
    const onGone = (why: string, cause?: unknown): void => {
      if (gone) return;
      gone = true;
      if (this.#child !== child) return; // closed, or already replaced
      this.#child = undefined;
      this.#failed(new DataplaneCommandError(['ip', ...this.#argv], stderr || why, cause ? { cause } : undefined));
    };
    child.on('error', (err) => onGone(`could not run: ${err.message}`, err));
    child.on('exit', (code, signal) => onGone(`exited (${signal ?? `code ${String(code)}`}); restarting`));
    // Events before the child subscribed are not seen: the listener re-reads the links.
    this.#onLink?.(undefined);
  }

  #failed(err: Error): void {
    if (this.#closed) return;
    this.#onError?.(err);
    this.#restart = this.#timers.setTimeout(
      () => {
        this.#restart = undefined;
        this.#run();
      },
      this.#restartMs,
      undefined,
    );
  }
}
