/**
 * Throwaway TLS material for a test etcd or kube-apiserver: a CA, a server certificate for
 * 127.0.0.1/localhost and a client certificate (by default CN "root", which etcd maps to the
 * root user under client-cert auth; kube-apiserver's admin is O=system:masters), all made with
 * the openssl CLI because Node cannot issue X.509 certificates itself. P-256 keys: generated
 * in milliseconds, and Go's TLS (etcd, Kubernetes) takes them.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EtcdNotFoundError, EtcdStartError } from './errors.js';

const run = promisify(execFile);

export interface TlsFiles {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly ca: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
}

export interface TestCertificateOptions {
  /** The client certificate's subject, in openssl's `/K=v/...` form. Default `/CN=root`. */
  clientSubject?: string;
  /** More subjectAltName entries for the server certificate (`DNS:x`, `IP:a.b.c.d`). */
  serverAltNames?: readonly string[];
  /** Validity of every certificate. Default 2 (a test run); a lab that stays up asks for more. */
  days?: number;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makeTestCertificates(dir: string, options: TestCertificateOptions = {}): Promise<TlsFiles> {
  const f = (name: string): string => join(dir, name);
  const days = String(options.days ?? 2);
  await openssl(['req', '-x509', ...EC_KEY, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', days, '-subj', '/CN=cattail-test-ca']);
  const altNames = ['IP:127.0.0.1', 'DNS:localhost', ...(options.serverAltNames ?? [])].join(',');
  await writeFile(f('server.ext'), `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  await writeFile(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, subject] of [
    ['server', '/CN=127.0.0.1'],
    ['client', options.clientSubject ?? '/CN=root'],
  ] as const) {
    await openssl(['req', ...EC_KEY, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', subject]);
    await openssl([
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${name}.crt`),
      '-days',
      days,
      '-extfile',
      f(`${name}.ext`),
    ]);
  }
  return {
    caFile: f('ca.crt'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    ca: await readFile(f('ca.crt')),
    clientCert: await readFile(f('client.crt')),
    clientKey: await readFile(f('client.key')),
  };
}

/** A P-256 key pair for signing (kube-apiserver's service-account tokens): `<name>.key` and `<name>.pub`. */
export async function makeSigningKeyPair(dir: string, name: string): Promise<{ keyFile: string; publicKeyFile: string }> {
  const keyFile = join(dir, `${name}.key`);
  const publicKeyFile = join(dir, `${name}.pub`);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
  await openssl(['pkey', '-in', keyFile, '-pubout', '-out', publicKeyFile]);
  return { keyFile, publicKeyFile };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new EtcdNotFoundError('openssl not found: it is needed to make test certificates (apt-get install openssl)');
    }
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new EtcdStartError(`openssl ${args[0]} failed: ${stderr.trim()}`, { cause: err });
  }
}
