/**
 * The daemon's datastore connections: one per distinct datastore configuration of the network
 * configs it is asked to serve (usually exactly one per node), opened on first use and kept open,
 * so a CNI call costs its own round trips and not a connection set-up (TLS, gRPC, the kubeconfig).
 *
 *   runPlugin ─open(conf)─▶ entry for key(conf) ─ none yet, or the last one broke ─▶ opener(conf)
 *             ◀─────────── the shared Datastore (users + 1)
 *   runPlugin ─release(ds, failure)─▶ users − 1; a broken connection leaves the map at once
 *                                     (the next call reopens) and is closed by its last user
 *
 * "Broken" is decided from the error the call ended with, walking its `cause` chain: the
 * datastore was unreachable (UnavailableError, which the plugin reports as "try again later"),
 * or the API server refused the credentials (401: the kubeconfig was rewritten with a new
 * token). An open that fails is not remembered either. Other errors (a conflict, a full pool, a
 * bad config) say nothing about the connection, which stays.
 *
 * The key is the datastore part of the netconf (type, etcd endpoints and TLS file names,
 * kubeconfig path): two netconfs naming the same files share a connection. The files' contents
 * are read when a connection opens; rewriting them takes effect on the next reopen.
 */
import type { Datastore } from '@cattail/datastore';
import { KubeHttpError, UnavailableError } from '@cattail/datastore/errors';
import type { NetConf } from './config.js';

export type DatastoreOpener = (conf: NetConf) => Datastore | Promise<Datastore>;

interface Entry {
  readonly key: string;
  readonly ds: Promise<Datastore>;
  users: number;
  broken: boolean;
}

export function datastoreKey(conf: NetConf): string {
  return conf.datastoreType === 'kubernetes' ? kubeconfigKey(conf.kubeconfig) : JSON.stringify([conf.datastoreType, conf.etcd]);
}

const kubeconfigKey = (path: string): string => JSON.stringify(['kubernetes', path]);

/** True when `err` (or an error it wraps) says the connection itself is unusable. */
export function isBrokenConnection(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof UnavailableError) return true;
    if (e instanceof KubeHttpError && e.statusCode === 401) return true;
  }
  return false;
}

export class WarmDatastores {
  readonly #opener: DatastoreOpener;
  readonly #open = new Map<string, Entry>();
  readonly #byDatastore = new Map<Datastore, Entry>();
  #closed = false;

  constructor(opener: DatastoreOpener) {
    this.#opener = opener;
  }

  /** Connections currently kept (for metrics and /status). */
  get size(): number {
    return this.#open.size;
  }

  async open(conf: NetConf): Promise<Datastore> {
    if (this.#closed) throw new Error('the CNI daemon is stopping: its datastore connections are closed');
    const key = datastoreKey(conf);
    let entry = this.#open.get(key);
    if (!entry) {
      entry = { key, ds: Promise.resolve().then(() => this.#opener(conf)), users: 0, broken: false };
      this.#open.set(key, entry);
    }
    entry.users++;
    let ds: Datastore;
    try {
      ds = await entry.ds;
    } catch (err) {
      entry.users--;
      if (this.#open.get(key) === entry) this.#open.delete(key);
      throw err;
    }
    this.#byDatastore.set(ds, entry);
    return ds;
  }

  async release(ds: Datastore, failure: unknown): Promise<void> {
    const entry = this.#byDatastore.get(ds);
    if (!entry) return ds.close();
    entry.users--;
    if (failure !== undefined && isBrokenConnection(failure)) {
      entry.broken = true;
      if (this.#open.get(entry.key) === entry) this.#open.delete(entry.key);
    }
    if ((entry.broken || this.#closed) && entry.users === 0) {
      this.#byDatastore.delete(ds);
      await ds.close();
    }
  }

  /**
   * Retires the kept connections opened from the kubeconfig at `path` (its token was renewed):
   * the next call opens a new one from the file, the old one is closed by its last user.
   */
  async retireKubeconfig(path: string): Promise<void> {
    const key = kubeconfigKey(path);
    const retired = [...this.#open.values()].filter((e) => e.key === key);
    for (const entry of retired) {
      entry.broken = true;
      this.#open.delete(entry.key);
    }
    await this.#closeIdle(retired);
  }

  /** Closes every kept connection; one still in use is closed by its last release. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    const all = [...this.#open.values()];
    this.#open.clear();
    await this.#closeIdle(all);
  }

  /** Closes those of `entries` nobody uses now; the others are closed by their last release. */
  async #closeIdle(entries: readonly Entry[]): Promise<void> {
    await Promise.all(
      entries
        .filter((e) => e.users === 0)
        .map(async (e) => {
          const ds = await e.ds.catch(() => undefined);
          if (!ds) return;
          this.#byDatastore.delete(ds);
          await ds.close().catch(() => undefined);
        }),
    );
  }
}
