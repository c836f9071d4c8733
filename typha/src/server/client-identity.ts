/**
 * Which TLS clients may connect, as Calico's Typha decides it (tlsutils.CertificateVerifier):
 * the certificate must be signed by the configured CA (checked by the TLS handshake itself,
 * `requestCert` + `rejectUnauthorized`), and then, when `clientCN` or `clientURISAN` is set,
 * its subject CN must equal clientCN OR one of its URI SANs must equal clientURISAN. With
 * neither set, any certificate from the CA is accepted.
 *
 * "Its subject CN" is ONE name, the last CN of the subject, as Calico reads it: Go's
 * crypto/x509 fills `Subject.CommonName` walking the subject's attributes in order, each CN
 * overwriting the one before, and Calico compares that field. A subject may carry several CNs
 * (`/CN=typha-client/CN=intruder`); Node lists them all (`subject.CN` is then an array), and
 * accepting the certificate when ANY of them matched would let a CA-signed certificate whose
 * effective name is another be taken for an allowed client. So only the last one counts here.
 *
 * The identity is checked on the upgrade request, so a refused client gets an HTTP 403 whose
 * body says what was expected and what its certificate carries, instead of a bare TLS alert.
 */
import type { PeerCertificate } from 'node:tls';

export interface ClientIdentityRule {
  clientCN?: string | undefined;
  clientURISAN?: string | undefined;
}

/** Undefined when `cert` is acceptable, else the reason to refuse it. */
export function checkClientIdentity(rule: ClientIdentityRule, cert: Partial<Pick<PeerCertificate, 'subject' | 'subjectaltname'>> | undefined): string | undefined {
  if (cert === undefined || cert.subject === undefined) return 'no client certificate presented';
  if (rule.clientCN === undefined && rule.clientURISAN === undefined) return undefined;
  const cns = subjectCNs(cert.subject.CN);
  const cn = cns.at(-1);
  if (rule.clientCN !== undefined && cn === rule.clientCN) return undefined;
  const uris = uriSans(cert.subjectaltname ?? '');
  if (rule.clientURISAN !== undefined && uris.includes(rule.clientURISAN)) return undefined;
  const want = [rule.clientCN !== undefined ? `CN "${rule.clientCN}"` : '', rule.clientURISAN !== undefined ? `URI SAN "${rule.clientURISAN}"` : '']
    .filter(Boolean)
    .join(' or ');
  const gotCN = cn === undefined ? 'none' : cns.length === 1 ? `"${cn}"` : `"${cn}" (the last of ${cns.map((c) => `"${c}"`).join(', ')}, as Calico reads it)`;
  const got = `CN ${gotCN}; URI SANs ${uris.length ? uris.map((u) => `"${u}"`).join(', ') : 'none'}`;
  return `client certificate not allowed: want ${want}, got ${got}`;
}

/** The subject's CNs in the certificate's order (Node: a string, or an array when there are several). */
function subjectCNs(cn: string | string[] | undefined): string[] {
  return cn === undefined ? [] : Array.isArray(cn) ? cn : [cn];
}

/**
 * The URI entries of Node's `subjectaltname` string (`DNS:a, URI:spiffe://x, IP Address:…`).
 * Node quotes a value as a JSON string when it contains a comma or quote (`URI:"a,b"`).
 */
export function uriSans(subjectAltName: string): string[] {
  const out: string[] = [];
  let i = 0;
  const s = subjectAltName;
  while (i < s.length) {
    while (s[i] === ' ' || s[i] === ',') i++;
    const colon = s.indexOf(':', i);
    if (colon < 0) break;
    const type = s.slice(i, colon);
    let value: string;
    i = colon + 1;
    if (s[i] === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(s.slice(i, j + 1)) as string;
      } catch {
        value = s.slice(i + 1, j);
      }
      i = j + 1;
    } else {
      const comma = s.indexOf(', ', i);
      const end = comma < 0 ? s.length : comma;
      value = s.slice(i, end);
      i = end;
    }
    if (type === 'URI') out.push(value);
  }
  return out;
}
