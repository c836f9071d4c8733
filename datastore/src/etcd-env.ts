/**
 * etcd connection settings from calicoctl's environment variables, so an operator's existing
 * calicoctl setup works unchanged: ETCD_ENDPOINTS (comma separated), ETCD_CA_CERT_FILE,
 * ETCD_CERT_FILE, ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD; and from a component's validated
 * configuration (Typha's and Felix's `Etcd*` parameters).
 */
import type { EtcdOptions } from './etcd-datastore.js';

export const DEFAULT_ETCD_ENDPOINTS = 'http://127.0.0.1:2379';

export function etcdOptionsFromEnv(env: Readonly<Record<string, string | undefined>>, overrides: { endpoints?: string } = {}): EtcdOptions {
  const endpoints = (overrides.endpoints ?? env.ETCD_ENDPOINTS ?? DEFAULT_ETCD_ENDPOINTS)
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const opts: EtcdOptions = { endpoints };
  if (env.ETCD_CA_CERT_FILE) opts.caFile = env.ETCD_CA_CERT_FILE;
  if (env.ETCD_CERT_FILE) opts.certFile = env.ETCD_CERT_FILE;
  if (env.ETCD_KEY_FILE) opts.keyFile = env.ETCD_KEY_FILE;
  if (env.ETCD_USERNAME) opts.username = env.ETCD_USERNAME;
  if (env.ETCD_PASSWORD) opts.password = env.ETCD_PASSWORD;
  return opts;
}

/** The `Etcd*` parameters of a component's configuration ('' where unset). */
export interface EtcdConfigParams {
  readonly EtcdEndpoints: readonly string[];
  readonly EtcdCaFile: string;
  readonly EtcdCertFile: string;
  readonly EtcdKeyFile: string;
  readonly EtcdUsername: string;
  readonly EtcdPassword: string;
}

export function etcdOptionsFromConfig(c: EtcdConfigParams): EtcdOptions {
  return {
    endpoints: [...c.EtcdEndpoints],
    ...(c.EtcdCaFile ? { caFile: c.EtcdCaFile } : {}),
    ...(c.EtcdCertFile ? { certFile: c.EtcdCertFile } : {}),
    ...(c.EtcdKeyFile ? { keyFile: c.EtcdKeyFile } : {}),
    ...(c.EtcdUsername ? { username: c.EtcdUsername, password: c.EtcdPassword } : {}),
  };
}
