/**
 * Which datastore the CLI talks to, from calicoctl's variables, so an operator's existing
 * environment works unchanged:
 *
 *   DATASTORE_TYPE      etcdv3 (the default; kubernetes is not supported yet)
 *   ETCD_ENDPOINTS      comma-separated URLs        (--etcd-endpoints overrides it)
 *   ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD
 *                       read by the etcd backend's etcdOptionsFromEnv
 *
 * Checked once, before anything connects. Building the client is `datastore-factory.ts`'s job.
 */
import type { Datastore } from '@cattail/datastore';
import { DatastoreConfigError } from './errors.js';

/** calicoctl's default when neither the flag nor ETCD_ENDPOINTS is set. */
export const DEFAULT_ETCD_ENDPOINTS = 'http://127.0.0.1:2379';

/**
 * Makes the datastore client. `overrides.endpoints` is what the CLI resolved (flag, variable or
 * default), comma-separated; the rest of the configuration comes from `env`.
 */
export type DatastoreFactory = (env: NodeJS.ProcessEnv, overrides: { endpoints: string }) => Datastore;

/** The endpoints the CLI will use: --etcd-endpoints, else ETCD_ENDPOINTS, else the default. */
export function resolveEndpoints(env: NodeJS.ProcessEnv, flag: string | undefined): string[] {
  const raw = flag ?? env.ETCD_ENDPOINTS ?? DEFAULT_ETCD_ENDPOINTS;
  const list = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  return list.length ? list : [DEFAULT_ETCD_ENDPOINTS];
}

/** Only etcd is implemented; say so instead of failing obscurely. */
export function checkDatastoreType(env: NodeJS.ProcessEnv): void {
  const type = env.DATASTORE_TYPE;
  if (type === undefined || type === '' || type === 'etcdv3') return;
  throw new DatastoreConfigError(`DATASTORE_TYPE "${type}" is not supported: cattail talks to etcd only (unset DATASTORE_TYPE or set it to etcdv3)`);
}
