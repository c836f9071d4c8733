/**
 * Spelling things the way BIRD 2's configuration language wants them. BIRD strings have no
 * escapes (2.0.12: a `"` ends the string, a backslash is literal, a newline is an error), so a
 * value holding one of those cannot be written at all: `birdString` says so instead of writing
 * something BIRD would read differently. Protocol names are BIRD symbols
 * (`[A-Za-z_][A-Za-z0-9_]*`), built from the peer's address as Calico names them
 * (`Mesh_10_0_0_2`, `Node_fd00__2`, with `_port_<n>` for a non-default port).
 */
import { formatIP, parseCIDR, parseIP, type IPAddr } from '@cattail/api';

/** `"text"`, or undefined when the text holds a character BIRD strings cannot carry. */
export function birdString(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/["\u0000-\u001f\u007f]/.test(text)) return undefined;
  return `"${text}"`;
}

export function protocolName(prefix: string, ip: IPAddr, port: number | undefined): string {
  const base = `${prefix}_${formatIP(ip).replace(/[.:]/g, '_')}`;
  return port === undefined ? base : `${base}_port_${port}`;
}

/**
 * A node's BGP address as Calico stores it (`172.31.0.1/24`, or a bare address) reduced to the
 * address; undefined when it is neither.
 */
export function addressOf(text: unknown, version: 4 | 6): IPAddr | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  const ip = text.includes('/') ? parseCIDR(text)?.addr : parseIP(text);
  return ip?.version === version ? ip : undefined;
}

/** Numeric order of two addresses of one family (bytes compared big-endian). */
export function compareIP(a: IPAddr, b: IPAddr): number {
  if (a.version !== b.version) return a.version - b.version;
  for (let i = 0; i < a.bytes.length; i++) {
    if (a.bytes[i] !== b.bytes[i]) return a.bytes[i] - b.bytes[i];
  }
  return 0;
}

/** An AS number as written in the datastore (`64512`, `"64512"`, `"1.10"`), or undefined. */
export function asNumberOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 0xffffffff) return v;
  const m = typeof v === 'string' ? /^(\d+)(?:\.(\d+))?$/.exec(v) : null;
  if (m === null) return undefined;
  // Dotted `a.b` is a * 65536 + b (RFC 5396), as numorstring.ASNumber reads it.
  const n = m[2] === undefined ? Number(m[1]) : Number(m[1]) * 65536 + Number(m[2]);
  return n > 0 && n <= 0xffffffff ? n : undefined;
}

/** A BGPPeer `peerIP`: `<ip>`, `<ipv4>:<port>` or `[<ipv6>]:<port>`; undefined when it is none. */
export function parsePeerAddress(text: string): { ip: IPAddr; port: number | undefined } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([0-9.]+):(\d+)$/.exec(text);
  const ip = parseIP(m ? m[1] : text);
  const port = m ? Number(m[2]) : undefined;
  if (ip === undefined || (port !== undefined && (port < 1 || port > 65535))) return undefined;
  if (m && (ip.version === 6) !== text.startsWith('[')) return undefined;
  return { ip, port };
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/**
 * A Go duration (`90s`, `1m30s`, `500ms`) in whole seconds, as BIRD's timers take them: rounded,
 * and at least 1 for a positive duration. Undefined for text that is not a duration.
 */
export function durationSeconds(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    end = re.lastIndex;
  }
  if (end === 0 || end !== text.length) return undefined;
  const secs = Math.round(total);
  return secs === 0 && total > 0 ? 1 : secs;
}

/** FNV-1a, 32 bits, of the UTF-8 text: a stable short hash for names BIRD has to hold. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * A stable 32-bit router id for a node without an IPv4 BGP address (BIRD's router id is always
 * an IPv4-shaped number): FNV-1a of the node name, never 0.0.0.0.
 */
export function routerIdFromName(name: string): string {
  let h = fnv1a32(name);
  if (h === 0) h = 1;
  return [h >>> 24, (h >>> 16) & 255, (h >>> 8) & 255, h & 255].join('.');
}
