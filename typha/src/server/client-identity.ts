/**
 * Which TLS clients may connect, as Calico's Typha decides it (tlsutils.CertificateVerifier):
 * the certificate must be signed by the configured CA (checked by the TLS handshake itself,
 * `requestCert` + `rejectUnauthorized`), and then, when `clientCN` or `clientURISAN` is set,
 * its subject CN (the last one, as Calico reads it: `common/cert-identity.ts`) must equal
 * clientCN OR one of its URI SANs must equal clientURISAN. With neither set, any certificate
 * from the CA is accepted.
 *
 * The identity is checked on the upgrade request, so a refused client gets an HTTP 403 whose
 * body says what was expected and what its certificate carries, instead of a bare TLS alert.
 */
import { identityMismatch, type CertificateNames } from '../common/cert-identity.js';

export { uriSans } from '../common/cert-identity.js';

export interface ClientIdentityRule {
  clientCN?: string | undefined;
  clientURISAN?: string | undefined;
}

/** Undefined when `cert` is acceptable, else the reason to refuse it. */
export function checkClientIdentity(rule: ClientIdentityRule, cert: CertificateNames | undefined): string | undefined {
  if (cert === undefined || cert.subject === undefined) return 'no client certificate presented';
  if (rule.clientCN === undefined && rule.clientURISAN === undefined) return undefined;
  const mismatch = identityMismatch({ cn: rule.clientCN, uriSan: rule.clientURISAN }, cert);
  return mismatch === undefined ? undefined : `client certificate not allowed: ${mismatch}`;
}
