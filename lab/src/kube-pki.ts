/**
 * The certificates of a `--engine kubernetes` lab, as kubeadm would lay them out, made once with
 * the openssl CLI in `<dir>/kube/pki` (one CA, valid a year):
 *
 *   ca.crt                    the cluster CA (every client and the API server trust it)
 *   server.crt                kube-apiserver's serving certificate: 127.0.0.1, localhost, the
 *                             control plane's fabric address, the `kubernetes` Service (10.96.0.1)
 *                             and its DNS names
 *   client.crt                the admin (O=system:masters): kubectl, helm, the tests
 *   apiserver-kubelet.crt     kube-apiserver → kubelet (logs, exec) (O=system:masters)
 *   kube-scheduler.crt        CN=system:kube-scheduler (its bootstrap RBAC role)
 *   kube-controller-manager.crt  CN=system:kube-controller-manager
 *   node-<name>.crt           each kubelet: CN=system:node:<name>, O=system:nodes (Node authorizer)
 *   service-account.key/.pub  the token signing pair (kube-apiserver, the controller manager)
 *
 * The file names of ca/server/client and the service-account pair are makeKubePki's, so the
 * shape is the KubePki that kubeApiServerArgs takes. P-256 keys: made in milliseconds.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubePki } from '@cattail/datastore/testing';
import { LabError } from './errors.js';
import { run } from './exec.js';

const DAYS = '365';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface ClusterPki extends KubePki {
  dir: string;
  /** kube-apiserver's client certificate toward the kubelets. */
  kubeletClient: CertPair;
}

export interface CertPair {
  certFile: string;
  keyFile: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeoutMs: 30_000 });
  } catch (err) {
    throw new LabError('LAB_COMMAND_FAILED', `making the lab's certificates: ${(err as Error).message}`, { cause: err });
  }
}

/** A certificate signed by the lab's CA: `<name>.crt` and `<name>.key`; kept when it exists. */
export async function issueCert(dir: string, name: string, subject: string, ext: string): Promise<CertPair> {
  const f = (x: string) => join(dir, x);
  const pair = { certFile: f(`${name}.crt`), keyFile: f(`${name}.key`) };
  if (existsSync(pair.certFile) && existsSync(pair.keyFile)) return pair;
  writeFileSync(f(`${name}.ext`), `${ext}\n`);
  await openssl(['req', ...EC_KEY, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', subject]);
  await openssl(
    ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial'].concat([
      '-out',
      f(`${name}.crt.tmp`),
      '-days',
      DAYS,
      '-extfile',
      f(`${name}.ext`),
    ]),
  );
  // Written last, under its final name only when complete: a crash leaves no half pair that the next `up` would keep.
  writeFileSync(pair.certFile, readFileSync(f(`${name}.crt.tmp`)));
  return pair;
}

export function clientCert(dir: string, name: string, subject: string): Promise<CertPair> {
  return issueCert(dir, name, subject, 'extendedKeyUsage=clientAuth');
}

/** The cluster's CA, API server, admin, scheduler, controller-manager and service-account material (made once). */
export async function ensureClusterPki(dir: string, apiserverAddress: string): Promise<ClusterPki> {
  await mkdir(dir, { recursive: true });
  const f = (x: string) => join(dir, x);
  if (!existsSync(f('ca.crt'))) {
    await openssl(['req', '-x509', ...EC_KEY, '-keyout', f('ca.key'), '-out', f('ca.crt.tmp'), '-days', DAYS, '-subj', '/CN=cattail-lab-ca']);
    writeFileSync(f('ca.crt'), readFileSync(f('ca.crt.tmp')));
  }
  const altNames = [
    'IP:127.0.0.1',
    `IP:${apiserverAddress}`,
    'IP:10.96.0.1',
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  const server = await issueCert(dir, 'server', '/CN=kube-apiserver', `subjectAltName=${altNames.join(',')}\nextendedKeyUsage=serverAuth`);
  const admin = await clientCert(dir, 'client', '/O=system:masters/CN=cattail-admin');
  const kubeletClient = await clientCert(dir, 'apiserver-kubelet', '/O=system:masters/CN=kube-apiserver-kubelet-client');
  await clientCert(dir, 'kube-scheduler', '/CN=system:kube-scheduler');
  await clientCert(dir, 'kube-controller-manager', '/CN=system:kube-controller-manager');
  if (!existsSync(f('service-account.pub'))) {
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('service-account.key')]);
    await openssl(['pkey', '-in', f('service-account.key'), '-pubout', '-out', f('service-account.pub')]);
  }
  return {
    dir,
    tls: {
      caFile: f('ca.crt'),
      serverCertFile: server.certFile,
      serverKeyFile: server.keyFile,
      clientCertFile: admin.certFile,
      clientKeyFile: admin.keyFile,
      ca: readFileSync(f('ca.crt')),
      clientCert: readFileSync(admin.certFile),
      clientKey: readFileSync(admin.keyFile),
    },
    serviceAccount: { keyFile: f('service-account.key'), publicKeyFile: f('service-account.pub') },
    kubeletClient,
  };
}

/** A kubeconfig (JSON, which is YAML) for `user` of the lab's PKI at `server`. */
export function kubeconfig(server: string, caFile: string, user: string, cert: CertPair): string {
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'cattail-lab', cluster: { server, 'certificate-authority': caFile } }],
      users: [{ name: user, user: { 'client-certificate': cert.certFile, 'client-key': cert.keyFile } }],
      contexts: [{ name: 'cattail-lab', context: { cluster: 'cattail-lab', user, namespace: 'default' } }],
      'current-context': 'cattail-lab',
    },
    null,
    2,
  );
}
