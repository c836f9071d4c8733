/**
 * The datastore connection of one CLI run: made on the first `open()` (so commands that fail on
 * their input never connect), bounded by `GuardedDatastore`, and closed once at the end of the
 * run whatever happened.
 */
import type { Datastore } from '@cattail/datastore';
import type { Logger } from 'pino';
import { checkDatastoreType, resolveEndpoints, type DatastoreFactory } from './datastore-config.js';
import { CliError, DatastoreConfigError, firstLine } from './errors.js';
import { GuardedDatastore } from './guarded-datastore.js';

export interface DatastoreSessionOptions {
  /** Undefined: the etcd backend (loaded on first use). */
  factory: DatastoreFactory | undefined;
  env: NodeJS.ProcessEnv;
  /** --etcd-endpoints, when given. */
  endpointsFlag: string | undefined;
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
    checkDatastoreType(env);
    const factory = this.#opts.factory ?? (await import('./datastore-factory.js')).etcdDatastoreFactory;
    if (this.#datastore) return this.#datastore; // opened by a concurrent caller meanwhile
    let inner: Datastore;
    try {
      inner = factory(env, { endpoints: this.endpoints.join(',') });
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new DatastoreConfigError(`cannot configure the datastore client: ${firstLine(err)}`, { cause: err });
    }
    logger.debug({ endpoints: this.endpoints }, 'datastore client created');
    this.#datastore = new GuardedDatastore(inner, { endpoints: this.endpoints, timeoutMs, signal });
    return this.#datastore;
  }

  async close(): Promise<void> {
    const ds = this.#datastore;
    this.#datastore = undefined;
    if (ds) await ds.close();
  }
}
