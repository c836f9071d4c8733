/**
 * NetworkPolicy ports as Calico rules carry them (libcalico-go `k8sRuleToCalico`,
 * `k8sPortToCalico`, `SimplifyPorts`, and projectcalico/api's `numorstring`):
 *
 *   - a port entry without a port matches every port of its protocol; an entry without
 *     protocol is TCP (so an empty entry is "TCP, every port"); no ports at all is one rule
 *     with no protocol
 *   - port + endPort is the range "port:endPort"; a string port is a named port
 *   - ports are grouped per protocol, one Calico rule per protocol, protocols in sorted order;
 *     "every port" of a protocol absorbs its listed ports
 *   - within a protocol, named ports come first, then numeric ports merged into ranges
 *     (80, 81, 82 → "80:82"); a single numeric port (counting a range as its ports) is left
 *     as it was
 *
 * A port Calico could not parse fails its Kubernetes rule; so does a protocol other than TCP,
 * UDP or SCTP (Calico would pass it on for Felix to reject).
 */
import { int, obj, str } from './read.js';
import { InputProblem } from './result.js';

/** A Calico port: a number, "min:max", or a port name. */
export type CalicoPort = number | string;

interface NumericPort {
  readonly min: number;
  readonly max: number;
}

type ParsedPort = { readonly named: string } | NumericPort;

const NAMED_PORT = /^[a-zA-Z0-9_.-]{1,128}$/;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

function portNumber(text: string, what: string): number {
  const n = Number(text);
  if (n > 65535) throw new InputProblem(`${what} ${text} is outside 1..65535`);
  if (n < 1) throw new InputProblem(`${what} ${text} is outside 1..65535`);
  return n;
}

/** projectcalico/api's `PortFromString`, except that port 0 is refused (Calico's validator refuses it later). */
function parsePort(text: string): ParsedPort {
  if (/^\d+$/.test(text)) {
    const n = portNumber(text, 'port');
    return { min: n, max: n };
  }
  const range = /^(\d+):(\d+)$/.exec(text);
  if (range) {
    const min = portNumber(range[1], 'port');
    const max = portNumber(range[2], 'endPort');
    if (min > max) throw new InputProblem(`port range ${text}: the port is greater than endPort`);
    return { min, max };
  }
  if (!NAMED_PORT.test(text)) throw new InputProblem(`port ${JSON.stringify(text)} is neither a number nor a port name`);
  return { named: text };
}

function toCalico(p: ParsedPort): CalicoPort {
  if ('named' in p) return p.named;
  return p.min === p.max ? p.min : `${p.min}:${p.max}`;
}

/** Calico's `SimplifyPorts`, merging intervals instead of listing every port. */
export function simplifyPorts(ports: readonly ParsedPort[]): ParsedPort[] {
  if (ports.length <= 1) return [...ports];
  const named = ports.filter((p): p is { named: string } => 'named' in p);
  const numeric = ports.filter((p): p is NumericPort => !('named' in p));
  const count = numeric.reduce((n, p) => n + (p.max - p.min + 1), 0);
  if (count <= 1) return [...ports];
  const sorted = [...numeric].sort((a, b) => a.min - b.min || a.max - b.max);
  const merged: NumericPort[] = [];
  for (const p of sorted) {
    const last = merged.at(-1);
    if (last && p.min <= last.max + 1) merged[merged.length - 1] = { min: last.min, max: Math.max(last.max, p.max) };
    else merged.push(p);
  }
  return [...named, ...merged];
}

/** One protocol's group: `ports` undefined means every port. */
export interface ProtocolPorts {
  /** undefined: no protocol (no ports were given). */
  readonly protocol: string | undefined;
  readonly ports: CalicoPort[] | undefined;
}

/** The rules' protocol/port groups of one Kubernetes rule's `ports`, in Calico's order. */
export function groupPorts(ports: readonly unknown[], path: string): ProtocolPorts[] {
  const groups = new Map<string, ParsedPort[] | undefined>();
  if (ports.length === 0) return [{ protocol: undefined, ports: undefined }];
  for (let i = 0; i < ports.length; i++) {
    const at = `${path}[${i}]`;
    // A null entry decodes, in Go, to an empty NetworkPolicyPort: TCP, every port.
    const p = obj(ports[i], at) ?? {};
    const protocolText = str(p.protocol, `${at}.protocol`);
    const protocol = protocolText === undefined ? 'TCP' : PROTOCOLS.find((n) => n.toLowerCase() === protocolText.toLowerCase());
    if (!protocol) throw new InputProblem(`${at}.protocol ${JSON.stringify(protocolText)} is not TCP, UDP or SCTP`);
    let port: ParsedPort | undefined;
    if (p.port !== undefined && p.port !== null) {
      const base = typeof p.port === 'number' ? String(int(p.port, `${at}.port`)) : str(p.port, `${at}.port`);
      const end = int(p.endPort, `${at}.endPort`);
      try {
        port = parsePort(end === undefined ? String(base) : `${base}:${end}`);
      } catch (err) {
        if (err instanceof InputProblem) throw new InputProblem(`${at}: ${err.message}`);
        throw err;
      }
    }
    if (!port) groups.set(protocol, undefined);
    else if (!groups.has(protocol)) groups.set(protocol, [port]);
    else groups.get(protocol)?.push(port); // undefined (every port) stays undefined
  }
  return [...groups.keys()].sort().map((protocol) => {
    const list = groups.get(protocol);
    return { protocol, ports: list && simplifyPorts(list).map(toCalico) };
  });
}
