/**
 * TLS to Typha, as Calico's Felix does it: the client presents its certificate (mutual TLS) and
 * verifies the server's chain against the given CA. Without `cn`/`uriSan` the server name is
 * verified the usual way (hostname against the certificate); with either, the name is not
 * checked and instead the certificate must carry that subject CN or that URI SAN (Calico's
 * TyphaCN / TyphaURISAN), since agents reach replicas by pod IP, which certificates rarely name.
 */
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { ClientOptions } from 'ws';
import { TlsIdentityError } from './errors.js';

export interface TlsOptions {
  /** PEM CA bundle that signed Typha's certificate. */
  ca?: string | Buffer;
  /** PEM client certificate and key (both or neither). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** SNI name, and the name verified when neither `cn` nor `uriSan` is given. */
  serverName?: string;
  /** Accept a server certificate whose subject CN is this. */
  cn?: string;
  /** Accept a server certificate with this URI SAN, e.g. `spiffe://cluster.local/ns/calico-system/sa/typha`. */
  uriSan?: string;
}

/**
 * The ws client options for `tls`. ws hands them to tls.connect, so they are typed as node's
 * (the @types/ws signature of checkServerIdentity is not the one tls calls).
 */
export function wsTlsOptions(tls: TlsOptions): ClientOptions {
  const o: ConnectionOptions = {};
  if (tls.ca !== undefined) o.ca = tls.ca;
  if (tls.cert !== undefined) o.cert = tls.cert;
  if (tls.key !== undefined) o.key = tls.key;
  if (tls.serverName !== undefined) o.servername = tls.serverName;
  if (tls.cn !== undefined || tls.uriSan !== undefined) {
    const expected = { cn: tls.cn, uriSan: tls.uriSan };
    o.checkServerIdentity = (_host: string, cert: PeerCertificate) => checkTyphaIdentity(expected, cert);
  } else {
    o.checkServerIdentity = checkServerIdentity;
  }
  return o as ClientOptions;
}

/** Undefined if `cert` has the expected CN or URI SAN, else the error to fail the handshake with. */
export function checkTyphaIdentity(
  expected: { cn?: string | undefined; uriSan?: string | undefined },
  cert: Pick<PeerCertificate, 'subject' | 'subjectaltname'>,
): Error | undefined {
  const cns = cert.subject?.CN;
  const cnList: string[] = cns === undefined ? [] : Array.isArray(cns) ? cns : [cns];
  if (expected.cn !== undefined && cnList.includes(expected.cn)) return undefined;
  const uris = (cert.subjectaltname ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
  if (expected.uriSan !== undefined && uris.includes(expected.uriSan)) return undefined;
  const want = [expected.cn !== undefined ? `CN "${expected.cn}"` : '', expected.uriSan !== undefined ? `URI SAN "${expected.uriSan}"` : '']
    .filter(Boolean)
    .join(' or ');
  const got = `CN ${cnList.length ? cnList.map((c) => `"${c}"`).join(',') : 'none'}, URI SANs ${uris.length ? uris.join(',') : 'none'}`;
  return new TlsIdentityError(`typha server certificate does not match: want ${want}, got ${got}`);
}
