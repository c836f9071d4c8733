/**
 * BGPPeer: a BGP session to configure on some nodes (`node`, `nodeSelector`, or all nodes) with
 * a remote given by address (`peerIP`, optionally with a port) or by selecting other Calico
 * nodes (`peerSelector`), or with local workloads (`localWorkloadSelector`).
 *
 * Rules (libcalico-go `validateBGPPeerSpec` and the v3 CRD): node excludes nodeSelector, peerIP
 * excludes peerSelector; a selected peer's AS comes from its node, so asNumber must be empty
 * with peerSelector; localWorkloadSelector needs asNumber and excludes peerIP and peerSelector;
 * reachableBy needs peerIP of the same family; keepOriginalNextHop (deprecated) excludes
 * nextHopMode. Beyond Calico we also require asNumber with peerIP: without it BIRD is given AS 0
 * and refuses the configuration, far from the operator who wrote the peer.
 */
import type { ValidationIssue } from '../errors.js';
import { parseIP } from '../net/ip.js';
import { asNumber, duration, ip, name, secretKeyRef, selector } from '../validation/fields.js';
import { asNumberValue } from '../validation/formats.js';
import { asString, isSet, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { arr, bool, int, obj, oneOf, str, test, type Infer } from '../validation/schema.js';

/** `<ip>`, `<ipv4>:<port>` or `[<ipv6>]:<port>`; the address part, or a message. */
function parsePeerIP(s: string): { address?: string; message?: string } {
  let address = s;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  const v4 = /^([0-9.]+):(\d+)$/.exec(s);
  if (v6) [, address, port] = v6;
  else if (v4) [, address, port] = v4;
  const bad = `"${s}" is not a peer address: use <IP>, <IPv4>:<port> or [<IPv6>]:<port>`;
  const parsed = parseIP(address);
  if (!parsed || (v4 && parsed.version !== 4) || (v6 && parsed.version !== 6)) return { message: bad };
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return { message: `"${s}": port ${port} is outside 1..65535` };
  return { address };
}

const spec = obj({
  node: name(),
  nodeSelector: selector(),
  peerIP: str({ check: test((s: string) => parsePeerIP(s).message) }),
  peerSelector: selector(),
  asNumber: asNumber(),
  localASNumber: asNumber(),
  localWorkloadSelector: selector(),
  password: secretKeyRef(),
  sourceAddress: oneOf(['UseNodeIP', 'None'] as const),
  maxRestartTime: duration(),
  keepaliveTime: duration(),
  numAllowedLocalASNumbers: int(0, 2147483647),
  ttlSecurity: int(0, 255),
  keepOriginalNextHop: bool(),
  nextHopMode: oneOf(['Auto', 'Self', 'Keep'] as const),
  reachableBy: ip(),
  filters: arr(name()),
  reversePeering: oneOf(['Auto', 'Manual'] as const),
});

export type BGPPeerSpec = Infer<typeof spec>;

function hasAS(v: unknown): boolean {
  return (typeof v === 'number' || typeof v === 'string') && v !== '' && asNumberValue(v) !== 0;
}

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const s = res.spec;
  if (isSet(s.node) && isSet(s.nodeSelector)) {
    issues.push({ path: 'spec.node', message: 'cannot be set together with nodeSelector: use one of them' });
  }
  if (isSet(s.peerIP) && isSet(s.peerSelector)) {
    issues.push({ path: 'spec.peerIP', message: 'cannot be set together with peerSelector: use one of them' });
  }
  if (isSet(s.peerSelector) && hasAS(s.asNumber)) {
    issues.push({
      path: 'spec.asNumber',
      message: "must be empty when peerSelector is set: each selected node's own AS number is used",
    });
  }
  if (isSet(s.localWorkloadSelector)) {
    if (!hasAS(s.asNumber)) issues.push({ path: 'spec.asNumber', message: 'is required when localWorkloadSelector is set' });
    if (isSet(s.peerIP)) issues.push({ path: 'spec.peerIP', message: 'must be empty when localWorkloadSelector is set' });
    if (isSet(s.peerSelector)) issues.push({ path: 'spec.peerSelector', message: 'must be empty when localWorkloadSelector is set' });
  } else if (isSet(s.peerIP) && !hasAS(s.asNumber)) {
    issues.push({ path: 'spec.asNumber', message: "is required when peerIP is set: the peer's AS number" });
  }

  const reachableBy = asString(s.reachableBy);
  const peerIP = asString(s.peerIP);
  if (reachableBy) {
    const gateway = parseIP(reachableBy);
    const peer = peerIP ? parsePeerIP(peerIP).address : undefined;
    if (!peerIP) issues.push({ path: 'spec.reachableBy', message: 'needs peerIP: it is the gateway to that peer' });
    else if (gateway && peer && parseIP(peer)?.version !== gateway.version) {
      issues.push({ path: 'spec.reachableBy', message: 'must be of the same IP family as peerIP' });
    }
  }
  if (s.keepOriginalNextHop === true && s.nextHopMode !== undefined) {
    issues.push({
      path: 'spec.keepOriginalNextHop',
      message: 'is deprecated and cannot be combined with nextHopMode: use nextHopMode: Keep',
    });
  }
}

export const bgpPeer: KindDef = { kind: 'BGPPeer', spec, rules };
