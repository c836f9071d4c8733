/**
 * Names the plugin derives, all as Calico derives them so Calico's tools and ours agree:
 *
 *   host-side veth   "cali" + the first 11 hex digits of SHA-1("<namespace>.<pod>"): 15
 *                    characters, the kernel's limit; stable across sandbox restarts of a pod,
 *                    so Felix's per-interface state survives them. Without a pod (orchestrator
 *                    `cni`) the hash is over the container ID.
 *   IPAM handle      "<network name>.<container ID>" (k8s-pod-network.<id>)
 *   endpoint         <node>-k8s-<pod>-<iface> with '-' doubled in each part, or
 *                    <node>-cni-<containerID>-<iface> (the api validator checks the same rule)
 */
import { createHash } from 'node:crypto';
import { workloadEndpointName } from '@cattail/api';
import * as kdd from '@cattail/datastore/kdd/convert';
import type { CniEnv } from './env.js';
import { InvalidEnvError } from './errors.js';

export const VETH_PREFIX = kdd.DEFAULT_INTERFACE_PREFIX;

/** The rule Calico's Kubernetes datastore derives the interface from, so both agree by construction. */
export function vethName(namespace: string, pod: string): string {
  return kdd.workloadInterfaceName(namespace, pod, VETH_PREFIX);
}

function vethNameFor(text: string): string {
  return VETH_PREFIX + createHash('sha1').update(text).digest('hex').slice(0, 11);
}

export function handleId(network: string, containerId: string): string {
  return `${network}.${containerId}`;
}

/** Who the endpoint belongs to: a Kubernetes pod, or a bare container. */
export interface WorkloadIdentity {
  readonly orchestrator: 'k8s' | 'cni';
  readonly namespace: string;
  /** The pod name (k8s) or the container ID (cni). */
  readonly workload: string;
  readonly pod?: string;
  readonly containerId: string;
  readonly endpoint: string;
  readonly node: string;
  readonly hostVeth: string;
  readonly wepName: string;
}

export function workloadIdentity(env: CniEnv, node: string): WorkloadIdentity {
  if (env.pod) {
    const spec = { orchestrator: 'k8s', node, pod: env.pod.name, endpoint: env.ifname };
    return {
      orchestrator: 'k8s',
      namespace: env.pod.namespace,
      workload: env.pod.name,
      pod: env.pod.name,
      containerId: env.containerId,
      endpoint: env.ifname,
      node,
      hostVeth: vethName(env.pod.namespace, env.pod.name),
      wepName: mustName(spec),
    };
  }
  const spec = { orchestrator: 'cni', node, containerID: env.containerId, endpoint: env.ifname };
  return {
    orchestrator: 'cni',
    namespace: 'default',
    workload: env.containerId,
    containerId: env.containerId,
    endpoint: env.ifname,
    node,
    hostVeth: vethNameFor(env.containerId),
    wepName: mustName(spec),
  };
}

function mustName(spec: Record<string, string>): string {
  const name = workloadEndpointName(spec);
  if (name === undefined) {
    // Only when a part begins or ends with '-', which Kubernetes names and container IDs never do.
    throw new InvalidEnvError(`cannot derive a WorkloadEndpoint name from ${JSON.stringify(spec)}: a part begins or ends with '-'`);
  }
  return name;
}
