/**
 * The one place the CLI builds its production datastore client: etcd v3, configured by the
 * backend's own reader of calicoctl's ETCD_* variables. Loaded on demand by DatastoreSession
 * (a dynamic import), so commands that never touch the datastore, and unit tests that inject a
 * fake, do not load the gRPC client at all.
 */
import { EtcdDatastore, etcdOptionsFromEnv } from '@cattail/datastore';
import type { DatastoreFactory } from './datastore-config.js';
import { DatastoreConfigError, firstLine } from './errors.js';

export const etcdDatastoreFactory: DatastoreFactory = (env, overrides) => {
  try {
    return new EtcdDatastore(etcdOptionsFromEnv(env, overrides));
  } catch (err) {
    throw new DatastoreConfigError(`cannot configure the etcd client: ${firstLine(err)}`, { cause: err });
  }
};
