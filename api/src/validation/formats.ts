/**
 * The value formats Calico's validator (libcalico-go `lib/validator/v3`) and the Kubernetes
 * helpers it calls accept: names, label keys and values, port names, interface names, MACs,
 * durations, AS numbers, BGP communities, IPs and CIDRs. Each test returns a message saying what
 * is wrong and what is allowed, or undefined when the value is fine; `fields.ts` turns them
 * into schema checks.
 */
import { parseCIDR, parseIP, hasHostBits, formatCIDR, type CIDR, type IPAddr, type IPVersion } from '../net/ip.js';

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const LABEL_RE = new RegExp(`^${LABEL}$`);
const SUBDOMAIN_RE = new RegExp(`^${LABEL}(\\.${LABEL})*$`);
const QUALIFIED_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;

/** A DNS-1123 label: Kubernetes namespaces, Calico tier names. */
export function dnsLabel(s: string): string | undefined {
  if (s.length > DNS1123_LABEL_MAX) return `"${s}" is ${s.length} characters long; at most ${DNS1123_LABEL_MAX} are allowed`;
  if (!LABEL_RE.test(s)) {
    return `"${s}" must consist of lower case letters, digits or '-', and start and end with a letter or digit`;
  }
  return undefined;
}

/** A DNS-1123 subdomain: the name of most Calico resources. */
export function dnsSubdomain(s: string): string | undefined {
  if (s.length > DNS1123_SUBDOMAIN_MAX) {
    return `"${s.slice(0, 20)}…" is ${s.length} characters long; at most ${DNS1123_SUBDOMAIN_MAX} are allowed`;
  }
  if (!SUBDOMAIN_RE.test(s)) {
    return `"${s}" must consist of lower case letters, digits, '-' or '.', and start and end with a letter or digit`;
  }
  return undefined;
}

/** A Kubernetes qualified name (label and annotation keys): `[prefix/]name`. */
export function qualifiedName(key: string): string | undefined {
  const parts = key.split('/');
  let name = key;
  if (parts.length === 2) {
    const bad = parts[0] === '' ? 'prefix part must not be empty' : dnsSubdomain(parts[0]) && 'prefix part must be a DNS subdomain';
    if (bad) return `"${key}": ${bad}`;
    name = parts[1];
  } else if (parts.length > 2) {
    return `"${key}" must be a name with an optional DNS subdomain prefix and '/' (e.g. "example.com/my-name")`;
  }
  if (name.length === 0) return `"${key}": name part must not be empty`;
  if (name.length > 63) return `"${key}": name part must be at most 63 characters`;
  if (!QUALIFIED_NAME_RE.test(name)) {
    return `"${key}": name part must consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit`;
  }
  return undefined;
}

export function labelValue(v: string): string | undefined {
  if (v.length > 63) return `label value "${v.slice(0, 20)}…" must be at most 63 characters`;
  if (v !== '' && !QUALIFIED_NAME_RE.test(v)) {
    return `label value "${v}" must be empty or consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit`;
  }
  return undefined;
}

/** Kubernetes `IsValidPortName` (IANA service names), which Calico applies to named ports. */
export function portName(s: string): string | undefined {
  if (s.length > 15) return `port name "${s}" must be at most 15 characters`;
  if (!/^[-a-z0-9]+$/.test(s)) return `port name "${s}" must consist of lower case letters, digits or '-'`;
  if (!/[a-z]/.test(s)) return `port name "${s}" must contain at least one letter`;
  if (s.startsWith('-') || s.endsWith('-') || s.includes('--')) {
    return `port name "${s}" must not begin or end with '-' or contain '--'`;
  }
  return undefined;
}

/** A Linux interface name, or `*` where Calico allows it (HostEndpoint). */
export function interfaceName(s: string, allowStar = true): string | undefined {
  if (allowStar && s === '*') return undefined;
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(s)) {
    return `"${s}" is not an interface name: 1 to 15 letters, digits, '_', '.' or '-'${allowStar ? ', or *' : ''}`;
  }
  return undefined;
}

/** An iptables-style interface match, where `+` is a wildcard (`eth+`). */
export function interfaceMatch(s: string): string | undefined {
  if (!/^[a-zA-Z0-9:._+-]{1,15}$/.test(s)) {
    return `"${s}" is not an interface match: 1 to 15 letters, digits or ':', '.', '_', '+', '-'`;
  }
  return undefined;
}

export function mac(s: string): string | undefined {
  const hex2 = '[0-9a-fA-F]{2}';
  const colon = new RegExp(`^${hex2}([:-]${hex2}){5}$|^${hex2}([:-]${hex2}){7}$|^${hex2}([:-]${hex2}){19}$`);
  const dotted = /^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){2}$/;
  if ((colon.test(s) && !(s.includes(':') && s.includes('-'))) || dotted.test(s)) return undefined;
  return `"${s}" is not a MAC address (e.g. ca:fe:1d:52:bb:e9)`;
}

/**
 * A Go `time.Duration` string as `metav1.Duration` reads it: `90s`, `1m30s`, `500ms`, `1.5h`,
 * `0`. Negative durations parse in Go but mean nothing for any Calico setting, so we refuse them.
 */
export function duration(s: string): string | undefined {
  if (s === '0') return undefined;
  if (!/^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(s)) {
    return `"${s}" is not a duration: use a number with a unit, e.g. 90s, 1m30s, 500ms, 1h`;
  }
  if (s.startsWith('-')) return `"${s}" must not be negative`;
  return undefined;
}

/** `numorstring.ASNumber`: 0..4294967295, as a number or string, or the dotted `a.b` form. */
export function asNumber(v: number | string): string | undefined {
  const text = String(v);
  if (/^\d+$/.test(text)) {
    return Number(text) <= 0xffffffff ? undefined : `AS number ${text} is outside 0..4294967295`;
  }
  const dotted = /^(\d+)\.(\d+)$/.exec(text);
  if (dotted && Number(dotted[1]) <= 0xffff && Number(dotted[2]) <= 0xffff) return undefined;
  return `"${text}" is not an AS number: use 0..4294967295 or the dotted form a.b with a and b in 0..65535`;
}

/** The numeric value of a valid {@link asNumber}. */
export function asNumberValue(v: number | string): number {
  const text = String(v);
  const dotted = /^(\d+)\.(\d+)$/.exec(text);
  return dotted ? Number(dotted[1]) * 65536 + Number(dotted[2]) : Number(text);
}

/** A BGP community: standard `aa:nn` (16-bit parts) or large `aa:nn:mm` (32-bit parts). */
export function communityValue(s: string): string | undefined {
  const parts = s.split(':');
  if ((parts.length !== 2 && parts.length !== 3) || !parts.every((p) => /^\d+$/.test(p))) {
    return `"${s}" is not a community: use aa:nn (standard) or aa:nn:mm (large)`;
  }
  const max = parts.length === 2 ? 0xffff : 0xffffffff;
  if (parts.some((p) => Number(p) > max)) {
    return `"${s}": each part of a ${parts.length === 2 ? 'standard' : 'large'} community must be in 0..${max}`;
  }
  return undefined;
}

/** A WireGuard public key: base64 of 32 bytes. */
export function wireguardKey(s: string): string | undefined {
  if (/^[A-Za-z0-9+/]{43}=$/.test(s)) return undefined;
  return `"${s.slice(0, 20)}${s.length > 20 ? '…' : ''}" is not a WireGuard public key (base64 of 32 bytes)`;
}

/**
 * Whether a Go (RE2) regular expression compiles. JavaScript lacks RE2's leading flag groups and
 * `(?P<name>`, so those are translated first; anything else RE2 accepts JavaScript accepts too,
 * for the patterns operators write here (interface names, file names).
 */
export function goRegexp(s: string): string | undefined {
  let src = s;
  let flags = '';
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    flags = [...new Set(lead[1].replace('U', ''))].join('');
    src = src.slice(lead[0].length);
  }
  try {
    new RegExp(src.replace(/\(\?P</g, '(?<'), flags);
    return undefined;
  } catch (err) {
    return `"${s}" is not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
}

// ---- addresses ---------------------------------------------------------------------------------

function family(version?: IPVersion): string {
  return version ? `an IPv${version}` : 'an IP';
}

/** An address, optionally of one family. */
export function ipAddress(s: string, version?: IPVersion): string | undefined {
  const ip = parseIP(s);
  if (!ip) return `"${s}" is not ${family(version)} address`;
  if (version && ip.version !== version) return `"${s}" is not ${family(version)} address`;
  return undefined;
}

export interface CIDROptions {
  version?: IPVersion;
  /** Reject host bits (`10.0.0.1/24`), as Calico's `net` validator does. */
  masked?: boolean;
  /** Accept a bare address as a full-length prefix (`ParseCIDROrIP`). */
  bareIP?: boolean;
}

/** Parse `text` as Calico's CIDR validators would: undefined result and a message on failure. */
export function parseNet(text: string, o: CIDROptions = {}): { cidr?: CIDR; message?: string } {
  let cidr = parseCIDR(text);
  if (!cidr && o.bareIP) {
    const ip: IPAddr | undefined = parseIP(text);
    if (ip) cidr = { version: ip.version, addr: ip, prefix: ip.version === 4 ? 32 : 128 };
  }
  if (!cidr) {
    if (parseIP(text)) {
      return { message: `"${text}" is an address, not a CIDR: write ${text}/${text.includes(':') ? 128 : 32}` };
    }
    return { message: `"${text}" is not ${o.version ? `an IPv${o.version} ` : 'a '}CIDR${o.bareIP ? ' or address' : ''}` };
  }
  if (o.version && cidr.version !== o.version) {
    return { message: `"${text}" is an IPv${cidr.version} CIDR; an IPv${o.version} one is required` };
  }
  if (o.masked && hasHostBits(cidr)) {
    return { message: `"${text}" has host bits set: use ${formatCIDR(cidr)}` };
  }
  return { cidr };
}

export function cidrText(text: string, o: CIDROptions = {}): string | undefined {
  return parseNet(text, o).message;
}

const DURATION_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/**
 * A duration as Calico stores it: `metav1.Duration` marshals with Go's `Duration.String()`, so
 * whatever was written (`10m`, `90s`, `0`) is stored as `10m0s`, `1m30s`, `0s`. Returns the
 * text unchanged when it is not a valid duration (the validator reports it).
 */
export function normalizeDuration(s: string): string {
  const ns = durationNanos(s);
  return ns === undefined ? s : goDurationString(ns);
}

/** A Go duration (`15m0s`, `1m30s`, `500ms`, `0`) in nanoseconds; undefined when it is not a valid, non-negative one. */
export function durationNanos(s: string): bigint | undefined {
  if (duration(s) !== undefined) return undefined;
  if (s === '0') return 0n;
  let ns = 0n;
  for (const m of s.replace(/^\+/, '').matchAll(/(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/g)) {
    const unit = DURATION_UNITS[m[3]];
    const frac = m[2] ?? '';
    ns += BigInt(m[1] || '0') * unit;
    if (frac !== '') ns += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
  }
  return ns;
}

/** A Go duration in milliseconds (rounded down); undefined when it is not a valid, non-negative one. */
export function durationMillis(s: string): number | undefined {
  const ns = durationNanos(s);
  return ns === undefined ? undefined : Number(ns / 1_000_000n);
}

/** Go's `time.Duration.String()` for a non-negative count of nanoseconds. */
function goDurationString(ns: bigint): string {
  if (ns === 0n) return '0s';
  const fixed = (v: bigint, digits: number): string => {
    const scale = 10n ** BigInt(digits);
    const frac = (v % scale).toString().padStart(digits, '0').replace(/0+$/, '');
    return `${v / scale}${frac ? `.${frac}` : ''}`;
  };
  if (ns < 1_000n) return `${ns}ns`;
  if (ns < 1_000_000n) return `${fixed(ns, 3)}µs`;
  if (ns < 1_000_000_000n) return `${fixed(ns, 6)}ms`;
  const hours = ns / 3_600_000_000_000n;
  const minutes = (ns / 60_000_000_000n) % 60n;
  const seconds = `${fixed(ns % 60_000_000_000n, 9)}s`;
  if (hours > 0n) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0n) return `${minutes}m${seconds}`;
  return seconds;
}
