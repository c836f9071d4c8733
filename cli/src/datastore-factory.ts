/**
 * The one place the CLI builds its production datastore client, for the location
 * `datastore-config.ts` resolved: etcd v3, configured by the backend's own reader of calicoctl's
 * ETCD_* variables, or the Kubernetes datastore, from a kubeconfig (or the pod's service
 * account) with calicoctl's K8S_* overrides on top:
 *
 *   K8S_API_ENDPOINT   the server             K8S_CA_FILE      its CA certificate
 *   K8S_CERT_FILE      client certificate     K8S_KEY_FILE     its key
 *   K8S_API_TOKEN      bearer token
 *
 * Loaded on demand by DatastoreSession (a dynamic import), so commands that never touch the
 * datastore, and unit tests that inject a fake, do not load either client at all.
 */
import { readFileSync } from 'node:fs';
import { EtcdDatastore, etcdOptionsFromEnv, kdd, type Datastore } from '@cattail/datastore';
import type { DatastoreFactory, DatastoreLocation } from './datastore-config.js';
import { DatastoreConfigError, firstLine } from './errors.js';

export const productionDatastoreFactory: DatastoreFactory = (env, location) => {
  if (location.type === 'etcdv3') {
    try {
      return new EtcdDatastore(etcdOptionsFromEnv(env, { endpoints: location.endpoints.join(',') }));
    } catch (err) {
      throw new DatastoreConfigError(`cannot configure the etcd client: ${firstLine(err)}`, { cause: err });
    }
  }
  try {
    return kubeDatastore(env, location);
  } catch (err) {
    throw new DatastoreConfigError(`cannot configure the Kubernetes client: ${firstLine(err)}`, { cause: err });
  }
};

function kubeDatastore(env: NodeJS.ProcessEnv, location: Extract<DatastoreLocation, { type: 'kubernetes' }>): Datastore {
  const { kubeconfig, apiEndpoint } = location;
  const base: kdd.KubeClientConfig =
    kubeconfig !== undefined ? kdd.loadKubeConfig(kubeconfig) : apiEndpoint !== undefined ? { server: apiEndpoint } : kdd.inClusterConfig();
  const file = (name: string): Buffer | undefined => (env[name] ? readFileSync(env[name]) : undefined);
  const config: kdd.KubeClientConfig = {
    server: (apiEndpoint ?? base.server).replace(/\/$/, ''),
    ca: file('K8S_CA_FILE') ?? base.ca,
    cert: file('K8S_CERT_FILE') ?? base.cert,
    key: file('K8S_KEY_FILE') ?? base.key,
    token: env.K8S_API_TOKEN || base.token,
  };
  return new kdd.KubeDatastore({ config });
}
