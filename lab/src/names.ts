/**
 * Every name the lab gives to something in the kernel starts with its prefix `ctlab-<id>`, so
 * `down` can find all of it by listing namespaces, even after a crash that lost the state file.
 *
 *   ctlab-<id>-fab            the fabric: a bridge `br0` (gateway 172.31.<octet>.254)
 *   ctlab-<id>-n<i>           node i: `eth0` on the fabric at 172.31.<octet>.<i>
 *   ctlab-<id>-n<i>-p<j>      pod j on node i (its eth0 and route come from the CNI plugin)
 *   ctlab-<id>-ext            a host outside the cluster: `eth0` on the fabric at 172.31.<octet>.253
 *   ctlab-<id>-cp             `--engine kubernetes`: the control plane, `eth0` at 172.31.<octet>.250
 *
 * Links live only inside those namespaces: the fabric side of node i is `p<i>` in the fabric
 * namespace (of the external host, `pext`), and nothing is ever created in the root namespace. Node names (`node-<i>`) and pod
 * names are the cluster's: each lab has its own etcd, so they need no prefix.
 */
import { createHash } from 'node:crypto';
import { LabUsageError } from './errors.js';

export const LAB_PREFIX = 'ctlab-';
const ID = /^[a-z0-9]{1,10}$/;

export type LabMode = 'bgp' | 'vxlan';

export interface PodName {
  /** Kubernetes pod name, e.g. `web-1-1`. */
  readonly name: string;
  /** Kubernetes namespace. */
  readonly namespace: string;
  readonly node: string;
  readonly nodeIndex: number;
  readonly podIndex: number;
  /** Its network namespace. */
  readonly netns: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The namespaces pods are spread over, with the labels their `kns.` profiles carry. */
export const POD_NAMESPACES: ReadonlyArray<{ name: string; labels: Record<string, string>; app: string }> = [
  { name: 'frontend', labels: { role: 'frontend' }, app: 'web' },
  { name: 'backend', labels: { role: 'backend' }, app: 'db' },
];

export function checkLabId(id: string): string {
  if (!ID.test(id)) throw new LabUsageError(`lab name "${id}" must be 1-10 lowercase letters or digits`);
  return id;
}

export class LabNames {
  readonly id: string;
  readonly prefix: string;

  constructor(id: string) {
    this.id = checkLabId(id);
    this.prefix = `${LAB_PREFIX}${id}`;
  }

  get fabricNs(): string {
    return `${this.prefix}-fab`;
  }

  /** Third octet of the fabric's 172.31.<octet>.0/24: stable per lab name (1..250). */
  get octet(): number {
    return 1 + (createHash('sha256').update(this.id).digest()[0] % 250);
  }

  nodeName(i: number): string {
    return `node-${i}`;
  }

  nodeNs(i: number): string {
    return `${this.prefix}-n${i}`;
  }

  nodeAddress(i: number): string {
    return `172.31.${this.octet}.${i}`;
  }

  get gateway(): string {
    return `172.31.${this.octet}.254`;
  }

  /** A host on the fabric outside every pool (NAT outgoing is seen from there). */
  get externalNs(): string {
    return `${this.prefix}-ext`;
  }

  get externalAddress(): string {
    return `172.31.${this.octet}.253`;
  }

  /** The fabric side of the external host's veth, and its name while created (then eth0). */
  get externalPort(): string {
    return 'pext';
  }

  get externalTempLink(): string {
    return `l${this.id.slice(0, 8)}x`;
  }

  /** `--engine kubernetes`: the control plane's namespace (etcd, kube-apiserver, scheduler, controller manager). */
  get controlPlaneNs(): string {
    return `${this.prefix}-cp`;
  }

  get controlPlaneAddress(): string {
    return `172.31.${this.octet}.250`;
  }

  /** The fabric side of the control plane's veth, and its name while created (then eth0). */
  get controlPlanePort(): string {
    return 'pcp';
  }

  get controlPlaneTempLink(): string {
    return `l${this.id.slice(0, 8)}c`;
  }

  /** The fabric side of node i's veth, in the fabric namespace. */
  fabricPort(i: number): string {
    return `p${i}`;
  }

  /** A name for node i's end while it is created (unique across labs, ≤ 15 chars), renamed to eth0. */
  tempLink(i: number): string {
    return `l${this.id.slice(0, 8)}n${i}`;
  }

  /** Pod j (1-based) of node i: namespaces alternate frontend/backend, labels app and pod. */
  pod(i: number, j: number): PodName {
    const ns = POD_NAMESPACES[(j - 1) % POD_NAMESPACES.length];
    const name = `${ns.app}-${i}-${j}`;
    return {
      name,
      namespace: ns.name,
      node: this.nodeName(i),
      nodeIndex: i,
      podIndex: j,
      netns: `${this.prefix}-n${i}-p${j}`,
      labels: { app: ns.app, pod: name },
    };
  }

  /** Whether a namespace name belongs to this lab. */
  owns(netns: string): boolean {
    return netns === this.prefix || netns.startsWith(`${this.prefix}-`);
  }
}

/** `-n<i>` of a node namespace, or undefined. */
export function nodeIndexOf(names: LabNames, netns: string): number | undefined {
  const m = new RegExp(`^${names.prefix}-n(\\d+)$`).exec(netns);
  return m ? Number(m[1]) : undefined;
}
