/**
 * Whose certificate is this, as Calico reads it — used on both sides of the Typha connection
 * (the server checking agents: TYPHA_CLIENTCN / TYPHA_CLIENTURISAN; the agents checking Typha:
 * FELIX_TYPHACN / FELIX_TYPHAURISAN). A certificate matches when its subject CN equals the
 * wanted CN or one of its URI SANs equals the wanted URI SAN.
 *
 * "Its subject CN" is ONE name, the last CN of the subject: Go's crypto/x509 fills
 * `Subject.CommonName` walking the subject's attributes in order, each CN overwriting the one
 * before, and Calico compares that field. A subject may carry several CNs
 * (`/CN=typha-client/CN=intruder`); Node lists them all (`subject.CN` is then an array), and
 * accepting the certificate when ANY of them matched would let a CA-signed certificate whose
 * effective name is another be taken for the wanted one. So only the last one counts.
 */
import type { PeerCertificate } from 'node:tls';

export interface IdentityRule {
  cn?: string | undefined;
  uriSan?: string | undefined;
}

export type CertificateNames = Partial<Pick<PeerCertificate, 'subject' | 'subjectaltname'>>;

/** Undefined when `cert` carries the wanted CN or URI SAN, else `want …, got …` for an error. */
export function identityMismatch(rule: IdentityRule, cert: CertificateNames): string | undefined {
  const cn = cert.subject?.CN;
  const cns: string[] = cn === undefined ? [] : Array.isArray(cn) ? cn : [cn];
  const name = cns.at(-1);
  if (rule.cn !== undefined && name === rule.cn) return undefined;
  const uris = uriSans(cert.subjectaltname ?? '');
  if (rule.uriSan !== undefined && uris.includes(rule.uriSan)) return undefined;
  const want = [rule.cn !== undefined ? `CN "${rule.cn}"` : '', rule.uriSan !== undefined ? `URI SAN "${rule.uriSan}"` : ''].filter(Boolean).join(' or ');
  const gotCN =
    name === undefined ? 'none' : cns.length === 1 ? `"${name}"` : `"${name}" (the last of ${cns.map((c) => `"${c}"`).join(', ')}, as Calico reads it)`;
  return `want ${want}, got CN ${gotCN}; URI SANs ${uris.length ? uris.map((u) => `"${u}"`).join(', ') : 'none'}`;
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
