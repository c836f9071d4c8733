/**
 * Throwaway TLS material for a test etcd: a CA, a server certificate for 127.0.0.1/localhost
 * and a client certificate (CN "root", which etcd maps to the root user under client-cert
 * auth), all made with the openssl CLI because Node cannot issue X.509 certificates itself.
 * P-256 keys: generated in milliseconds, and Go's TLS (etcd) takes them.
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

export async function makeTestCertificates(dir: string): Promise<TlsFiles> {
  const f = (name: string): string => join(dir, name);
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(['req', '-x509', ...ecKey, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=cattail-test-ca']);
  await writeFile(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  await writeFile(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', '127.0.0.1'],
    ['client', 'root'],
  ] as const) {
    await openssl(['req', ...ecKey, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`]);
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
      '2',
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
