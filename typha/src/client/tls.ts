/**
 * TLS to Typha, as Calico's Felix does it: the client presents its certificate (mutual TLS) and
 * verifies the server's chain against the given CA. Without `cn`/`uriSan` the server name is
 * verified the usual way (hostname against the certificate); with either, the name is not
 * checked and instead the certificate must carry that subject CN (the last, as Calico reads it)
 * or that URI SAN (Calico's TyphaCN / TyphaURISAN), since agents reach replicas by pod IP, which certificates rarely name.
 */
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { identityMismatch, type CertificateNames, type IdentityRule } from '../common/cert-identity.js';
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

/** Undefined if `cert` has the expected CN (its last, as Calico reads it) or URI SAN, else the error to fail the handshake with. */
export function checkTyphaIdentity(expected: IdentityRule, cert: CertificateNames): Error | undefined {
  const mismatch = identityMismatch(expected, cert);
  return mismatch === undefined ? undefined : new TlsIdentityError(`typha server certificate does not match: ${mismatch}`);
}
