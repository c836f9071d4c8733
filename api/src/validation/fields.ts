/**
 * Field types shared by many kinds, as schema nodes: names, selectors, addresses, ports,
 * protocols, durations, labels. A kind's schema reads like Calico's Go struct tags
 * (`validate:"omitempty,selector"` becomes `selector()`), so comparing the two is easy.
 */
import type { IPVersion } from '../net/ip.js';
import { validateSelector } from '../selector/index.js';
import * as f from './formats.js';
import { bool, int, intOrStr, mapOf, obj, str, test } from './schema.js';

export const name = () => str({ check: test(f.dnsSubdomain) });
export const dnsLabel = () => str({ check: test(f.dnsLabel) });
export const selector = () => str({ check: test(selectorProblem) });
/** A `metav1.Duration`: stored as Go prints it (`10m` → `10m0s`). */
export const duration = () => str({ check: test(f.duration), normalize: f.normalizeDuration });
export const regexp = () => str({ check: test(f.goRegexp) });
export const ip = (version?: IPVersion) => str({ check: test((s: string) => f.ipAddress(s, version)) });
export const cidr = (o: f.CIDROptions = {}) => str({ check: test((s: string) => f.cidrText(s, o)) });
export const mac = () => str({ check: test(f.mac) });
export const interfaceName = (allowStar = true) => str({ check: test((s: string) => f.interfaceName(s, allowStar)) });
export const asNumber = () => intOrStr(test(f.asNumber));
/** A TCP/UDP/SCTP port number. */
export const portNumber = () => int(1, 65535);
/** A policy rule port: `80`, `"8080:8090"` or a named port `"http"`. */
export const port = () => intOrStr(test(policyPort));
export const protocol = () => intOrStr(test(protocolProblem));

function selectorProblem(s: string): string | undefined {
  const problem = validateSelector(s);
  return problem ? `invalid selector ${JSON.stringify(s)}: ${problem}` : undefined;
}

/** Labels: qualified-name keys, label-format values (Kubernetes rules, as Calico applies them). */
export const labels = () => mapOf(str({ check: test(f.labelValue) }), { key: test(f.qualifiedName) });

const ANNOTATION_LIMIT = 256 * 1024;

/** Annotations: qualified-name keys (compared lower-cased, as Calico does), 256 KiB in total. */
export const annotations = () =>
  mapOf(str(), {
    key: test((k: string) => f.qualifiedName(k.toLowerCase())),
    check: (value, path, issues) => {
      let size = 0;
      for (const [k, v] of Object.entries(value)) size += k.length + (typeof v === 'string' ? v.length : 0);
      if (size > ANNOTATION_LIMIT) {
        issues.push({ path, message: `annotations total ${size} bytes; at most ${ANNOTATION_LIMIT} are allowed` });
      }
    },
  });

/** A Kubernetes secret reference, as BGP passwords use. */
export const secretKeyRef = () =>
  obj({ secretKeyRef: obj({ name: name(), key: str(), optional: bool() }, { required: ['key'] }) }, { required: ['secretKeyRef'] });

// ---- ports -------------------------------------------------------------------------------------

function portNumberProblem(n: number, text: string): string | undefined {
  if (n < 1 || n > 65535) return `port ${text} is outside 1..65535`;
  return undefined;
}

/** `numorstring.Port` as Calico validates it in policy rules. */
function policyPort(v: number | string): string | undefined {
  return portOrRange(v, true);
}

/** A port or `min:max` range; named ports only where `named` is true. */
export function portOrRange(v: number | string, named: boolean): string | undefined {
  if (typeof v === 'number') return portNumberProblem(v, String(v));
  if (/^\d+$/.test(v)) return portNumberProblem(Number(v), v);
  const range = /^(\d+):(\d+)$/.exec(v);
  if (range) {
    const [lo, hi] = [Number(range[1]), Number(range[2])];
    const bad = portNumberProblem(lo, range[1]) ?? portNumberProblem(hi, range[2]);
    if (bad) return `port range "${v}": ${bad}`;
    if (lo > hi) return `port range "${v}" is reversed: the first port must not be greater than the second`;
    return undefined;
  }
  if (!named) return `"${v}" is not a port or port range (e.g. 30000:32767)`;
  return f.portName(v);
}

// ---- protocols ---------------------------------------------------------------------------------

const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  TCP: 6,
  UDP: 17,
  ICMP: 1,
  ICMPv6: 58,
  SCTP: 132,
  UDPLite: 136,
};
const PROTOCOL_NAMES = Object.keys(PROTOCOL_NUMBERS);

export function protocolProblem(v: number | string): string | undefined {
  const text = String(v);
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= 255 ? undefined : `protocol number ${text} is outside 1..255`;
  }
  if (PROTOCOL_NAMES.includes(text)) return undefined;
  const fixed = PROTOCOL_NAMES.find((p) => p.toLowerCase() === text.toLowerCase());
  if (fixed) return `"${text}" is not a protocol name; write "${fixed}" (names are case-sensitive)`;
  return `"${text}" is not a protocol: use ${PROTOCOL_NAMES.join(', ')} or a number 1..255`;
}

/** The IP protocol number of a valid protocol value; undefined when it is not valid. */
export function protocolNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
  if (n !== undefined) return Number.isInteger(n) && n >= 1 && n <= 255 ? n : undefined;
  return typeof v === 'string' ? PROTOCOL_NUMBERS[v] : undefined;
}

/** TCP, UDP and SCTP carry ports; nothing else does. */
export function protocolHasPorts(v: unknown): boolean {
  const n = protocolNumber(v);
  return n === 6 || n === 17 || n === 132;
}

/** Calico's log levels, for Felix and BIRD settings. */
export const LOG_LEVELS = ['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal'] as const;
