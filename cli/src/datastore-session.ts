/**
 * The datastore connection of one CLI run: made on the first `open()` (so commands that fail on
 * their input never connect), bounded by `GuardedDatastore`, and closed once at the end of the
 * run whatever happened.
 */
import type { Datastore } from '@cattail/datastore';
import type { Logger } from 'pino';
import { resolveDatastore, resolveEndpoints, type DatastoreFactory } from './datastore-config.js';
import { CliError, DatastoreConfigError, firstLine } from './errors.js';
import { GuardedDatastore } from './guarded-datastore.js';

export interface DatastoreSessionOptions {
  /** Undefined: the production backends, etcd or Kubernetes (loaded on first use). */
  factory: DatastoreFactory | undefined;
  env: NodeJS.ProcessEnv;
  /** --etcd-endpoints, when given. */
  endpointsFlag: string | undefined;
  /** --kubeconfig, when given. */
  kubeconfigFlag: string | undefined;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  logger: Logger;
}

export class DatastoreSession {
  readonly endpoints: readonly string[];
  readonly #opts: DatastoreSessionOptions;
  #datastore: GuardedDatastore | undefined;

  constructor(opts: DatastoreSessionOptions) {
    this.#opts = opts;
    this.endpoints = Object.freeze(resolveEndpoints(opts.env, opts.endpointsFlag));
  }

  async open(): Promise<Datastore> {
    if (this.#datastore) return this.#datastore;
    const { env, timeoutMs, signal, logger } = this.#opts;
    const location = resolveDatastore(env, { endpoints: this.#opts.endpointsFlag, kubeconfig: this.#opts.kubeconfigFlag });
    const factory = this.#opts.factory ?? (await import('./datastore-factory.js')).productionDatastoreFactory;
    if (this.#datastore) return this.#datastore; // opened by a concurrent caller meanwhile
    let inner: Datastore;
    try {
      inner = factory(env, location);
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new DatastoreConfigError(`cannot configure the datastore client: ${firstLine(err)}`, { cause: err });
    }
    logger.debug({ location }, 'datastore client created');
    this.#datastore = new GuardedDatastore(inner, { location, timeoutMs, signal });
    return this.#datastore;
  }

  async close(): Promise<void> {
    const ds = this.#datastore;
    this.#datastore = undefined;
    if (ds) await ds.close();
  }
}
