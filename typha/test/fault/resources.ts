/**
 * The resources the fault writer plays with: a small, fixed universe of names per kind, so the
 * same keys are created, changed, deleted and created again (which is what exposes a client
 * that kept a deleted key, or missed a re-creation). Every value is a valid projectcalico.org/v3
 * resource (`validateResource` passes; a unit test checks every kind at several versions), and
 * each version `v` of a key projects differently for the syncers that carry it, so an update is
 * always a real change that the dedupe stage passes on.
 *
 *   kind                 names              felix  bgp   what a version changes
 *   IPPool               pool0..pool5       yes    yes   blockSize, natOutgoing, disabled
 *   WorkloadEndpoint     ns-a|ns-b / 24 pods yes    -     labels, ipNetworks
 *   Node                 node0..node5       yes    yes   labels, BGP address
 *   BGPPeer              peer0..peer4       -      yes   asNumber
 *   GlobalNetworkPolicy  gnp0..gnp3         yes    -     order, selector
 *   NetworkPolicy        ns-a / np0..np3    yes    -     order
 *   IPPool "fence"       (the round's end)  yes    yes   nodeSelector (a new one each time)
 */
import type { Resource } from '@cattail/api';

const V3 = 'projectcalico.org/v3';

export type WriterKind = 'IPPool' | 'WorkloadEndpoint' | 'Node' | 'BGPPeer' | 'GlobalNetworkPolicy' | 'NetworkPolicy';

export interface Slot {
  kind: WriterKind;
  /** Index within the kind's universe. */
  index: number;
}

/** How many distinct names each kind has, and how often the writer touches it. */
export const UNIVERSE: ReadonlyArray<readonly [WriterKind, { size: number; weight: number }]> = [
  ['WorkloadEndpoint', { size: 24, weight: 35 }],
  ['IPPool', { size: 6, weight: 20 }],
  ['Node', { size: 6, weight: 10 }],
  ['BGPPeer', { size: 5, weight: 15 }],
  ['GlobalNetworkPolicy', { size: 4, weight: 10 }],
  ['NetworkPolicy', { size: 4, weight: 10 }],
];

export const WEP_NODES = 6;

export function slotId(s: Slot): string {
  return `${s.kind}#${s.index}`;
}

/** The resource in slot `s` at version `v` (v ≥ 0). */
export function resourceAt(s: Slot, v: number): Resource {
  const i = s.index;
  switch (s.kind) {
    case 'IPPool':
      return {
        apiVersion: V3,
        kind: 'IPPool',
        metadata: { name: `pool${i}` },
        spec: { cidr: `10.${100 + i}.0.0/16`, blockSize: 24 + (v % 5), natOutgoing: v % 2 === 0, disabled: v % 7 === 6 },
      };
    case 'WorkloadEndpoint': {
      const ns = i % 2 === 0 ? 'ns-a' : 'ns-b';
      const node = `node${i % WEP_NODES}`;
      const pod = `p${i}`;
      return {
        apiVersion: V3,
        kind: 'WorkloadEndpoint',
        metadata: {
          name: `${node}-k8s-${pod}-eth0`,
          namespace: ns,
          labels: { app: `a${v % 9}`, 'projectcalico.org/namespace': ns, 'projectcalico.org/orchestrator': 'k8s' },
        },
        spec: {
          node,
          orchestrator: 'k8s',
          pod,
          endpoint: 'eth0',
          interfaceName: `cali${String(i).padStart(11, '0')}`,
          ipNetworks: [`10.65.${i}.${1 + (v % 250)}/32`],
          profiles: [`kns.${ns}`],
        },
      };
    }
    case 'Node':
      return {
        apiVersion: V3,
        kind: 'Node',
        metadata: { name: `node${i}`, labels: { rack: `r${v % 4}`, 'kubernetes.io/hostname': `node${i}` } },
        spec: { bgp: { ipv4Address: `192.0.2.${10 + i}/24`, asNumber: 64600 + (v % 50) } },
      };
    case 'BGPPeer':
      return { apiVersion: V3, kind: 'BGPPeer', metadata: { name: `peer${i}` }, spec: { peerIP: `198.51.100.${1 + i}`, asNumber: 65000 + v } };
    case 'GlobalNetworkPolicy':
      return {
        apiVersion: V3,
        kind: 'GlobalNetworkPolicy',
        metadata: { name: `gnp${i}` },
        spec: {
          order: 100 + v,
          selector: `app == "a${v % 9}"`,
          types: ['Ingress'],
          ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80 + (v % 20)] } }],
        },
      };
    case 'NetworkPolicy':
      return {
        apiVersion: V3,
        kind: 'NetworkPolicy',
        metadata: { name: `np${i}`, namespace: 'ns-a' },
        spec: { order: 10 + v, selector: 'all()', types: ['Egress'], egress: [{ action: 'Allow' }] },
      };
  }
}

/** The fence: one IPPool both syncers carry, with a new nodeSelector at every `n`. */
export function fencePool(n: number): Resource {
  return { apiVersion: V3, kind: 'IPPool', metadata: { name: 'fence' }, spec: { cidr: '10.99.0.0/16', nodeSelector: `fence == "${n}"` } };
}
