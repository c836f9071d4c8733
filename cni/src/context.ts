/**
 * What every command gets: the validated config and environment, the datastore and IPAM on it,
 * the wiring boundary, a logger, and the MTU lookup. Built by plugin.ts; tests build their own.
 */
import type { Datastore } from '@cattail/datastore';
import type * as ipam from '@cattail/datastore/ipam';
import type { NetConf } from './config.js';
import type { CniEnv } from './env.js';
import type { PodInfo } from './k8s-pod.js';
import type { Logger } from './log.js';
import type { PodWiring } from './wiring.js';

export interface CommandContext {
  readonly conf: NetConf;
  readonly env: CniEnv;
  readonly ds: Datastore;
  readonly ipam: ipam.IpamClient;
  readonly wiring: PodWiring;
  readonly log: Logger;
  /** The MTU for the pod's interface: the config's, else the MTU file's, else 1500. */
  mtu(): Promise<number>;
  now(): Date;
  /** datastore_type kubernetes: the pod as the API server has it (labels, service account, annotations). */
  pod?(namespace: string, name: string): Promise<PodInfo>;
  /** With CATTAIL_CNI_TIMING=1: records a phase boundary (timing.ts). */
  mark?(name: string): void;
}
