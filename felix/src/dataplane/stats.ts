/**
 * What a driver counts for Felix's `/metrics` (Calico's `felix_active_local_*`,
 * `felix_ipsets_calico`, `felix_cluster_num_hosts`, `felix_int_dataplane_apply_time_seconds`):
 * sizes read off the desired state on each scrape, plus the apply times the driver observed.
 */
import type { DesiredState } from './desired-state.js';

export interface DataplaneStats {
  /** Local workload endpoints plus host endpoints. */
  localEndpoints: number;
  /** Policies that apply to a local endpoint (the graph sends only those). */
  localPolicies: number;
  /** IP sets the graph has active (each once, whatever families it spans). */
  ipSets: number;
  /** Nodes the graph knows (HostMetadata). */
  hosts: number;
  /** Applies done (a nothing-to-do apply included) and the seconds they took in all. */
  applies: number;
  applySeconds: number;
}

/** Apply durations, summed (a Prometheus summary without quantiles). */
export class ApplyTimes {
  count = 0;
  seconds = 0;

  observe(seconds: number): void {
    this.count++;
    this.seconds += seconds;
  }
}

export function dataplaneStats(state: Readonly<DesiredState>, times: ApplyTimes): DataplaneStats {
  return {
    localEndpoints: state.workloads.size + state.hostEndpoints.size,
    localPolicies: state.policies.size,
    ipSets: state.ipSets.size,
    hosts: state.hosts.size,
    applies: times.count,
    applySeconds: times.seconds,
  };
}
