/**
 * Which datastore the CLI talks to, from calicoctl's flags and variables, so an operator's
 * existing environment works unchanged:
 *
 *   DATASTORE_TYPE      etcdv3 (the default) or kubernetes
 *   etcdv3:
 *     ETCD_ENDPOINTS    comma-separated URLs        (--etcd-endpoints overrides it)
 *     ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD
 *                       read by the etcd backend's etcdOptionsFromEnv
 *   kubernetes:
 *     KUBECONFIG        a kubeconfig file (the first of a ':' list; --kubeconfig overrides it)
 *     K8S_API_ENDPOINT  the API server's URL: replaces the kubeconfig's server, or stands alone
 *                       with K8S_CA_FILE, K8S_CERT_FILE, K8S_KEY_FILE, K8S_API_TOKEN
 *     neither           the pod's service account when running in a pod
 *                       (KUBERNETES_SERVICE_HOST), else refused: calicoctl does not fall back
 *                       to ~/.kube/config either, and a CLI that silently picked whatever
 *                       cluster that file names could write to the wrong one
 *
 * Checked once, before anything connects. Building the client is `datastore-factory.ts`'s job.
 */
import type { Datastore } from '@cattail/datastore';
import { DatastoreConfigError } from './errors.js';

/** calicoctl's default when neither the flag nor ETCD_ENDPOINTS is set. */
export const DEFAULT_ETCD_ENDPOINTS = 'http://127.0.0.1:2379';

/** Where the datastore is. For kubernetes, neither `kubeconfig` nor `apiEndpoint` means in-cluster. */
export type DatastoreLocation =
  | { readonly type: 'etcdv3'; readonly endpoints: readonly string[] }
  | { readonly type: 'kubernetes'; readonly kubeconfig?: string; readonly apiEndpoint?: string };

/** The flags that say where the datastore is, when given. */
export interface DatastoreFlags {
  endpoints?: string;
  kubeconfig?: string;
}

/** Makes the datastore client for `location`; the rest of the configuration (TLS files, credentials) comes from `env`. */
export type DatastoreFactory = (env: NodeJS.ProcessEnv, location: DatastoreLocation) => Datastore;

/** The endpoints the CLI will use: --etcd-endpoints, else ETCD_ENDPOINTS, else the default. */
export function resolveEndpoints(env: NodeJS.ProcessEnv, flag: string | undefined): string[] {
  const raw = flag ?? env.ETCD_ENDPOINTS ?? DEFAULT_ETCD_ENDPOINTS;
  const list = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  return list.length ? list : [DEFAULT_ETCD_ENDPOINTS];
}

/** The datastore DATASTORE_TYPE and the flags name; DatastoreConfigError when they name none. */
export function resolveDatastore(env: NodeJS.ProcessEnv, flags: DatastoreFlags): DatastoreLocation {
  const type = env.DATASTORE_TYPE;
  if (type === undefined || type === '' || type === 'etcdv3') return { type: 'etcdv3', endpoints: resolveEndpoints(env, flags.endpoints) };
  if (type !== 'kubernetes') throw new DatastoreConfigError(`DATASTORE_TYPE "${type}" is not supported: set it to etcdv3 (the default) or kubernetes`);
  const kubeconfig = flags.kubeconfig || env.KUBECONFIG?.split(':').find((p) => p !== '');
  const apiEndpoint = env.K8S_API_ENDPOINT || undefined;
  if (kubeconfig === undefined && apiEndpoint === undefined && !env.KUBERNETES_SERVICE_HOST) {
    throw new DatastoreConfigError(
      'DATASTORE_TYPE=kubernetes needs a kubeconfig: set KUBECONFIG or pass --kubeconfig (or set K8S_API_ENDPOINT, or run in a pod with a service account)',
    );
  }
  return { type: 'kubernetes', ...(kubeconfig !== undefined && { kubeconfig }), ...(apiEndpoint !== undefined && { apiEndpoint }) };
}
