/**
 * Per-endpoint operational status, as Calico's endpoint manager works it out for its status
 * reporter, from the desired state and the kernel's links (`ip -json -d link show`):
 *
 *   workload endpoint   up: its interface exists and is oper-up (flags UP and LOWER_UP), and the
 *                           apply that programmed it succeeded
 *                       error: oper-up, but that apply failed (nftables, routes or sysctls)
 *                       down: otherwise (no interface yet, or admin/carrier down)
 *   host endpoint       `interfaceName: "*"`: up (Calico lets no single interface decide it)
 *                       named: up (error if the apply failed) when that interface is oper-up,
 *                       down when it exists but is not, error when it does not exist (Calico:
 *                       "known but failed to resolve")
 *
 * Calico's `error` for a workload is "its interface could not be configured"; here an apply
 * programs every endpoint in one transaction, so a failed apply makes every oper-up endpoint
 * `error` until an apply succeeds (its retry follows in a second). Not reported: host endpoints
 * found by `expectedIPs` only (resolving them needs the host's addresses, which the Linux driver
 * reads only for its ruleset). A driver reports the whole picture after each apply; the reporter
 * keeps what changed.
 */
import type { DesiredState } from './desired-state.js';

export type EndpointOperStatus = 'up' | 'down' | 'error';

/** What a driver reports after an apply: every local endpoint it knows, by key. */
export interface EndpointStatusReport {
  /** `namespace/name` of the WorkloadEndpoint → status. */
  workloads: ReadonlyMap<string, EndpointOperStatus>;
  /** HostEndpoint name → status. */
  hostEndpoints: ReadonlyMap<string, EndpointOperStatus>;
}

/** Called by a driver with each new report (the same report may come again: the reporter dedupes). */
export type EndpointStatusListener = (report: EndpointStatusReport) => void;

/** `ip -json link` entry → oper-up: administratively up and carrier (LOWER_UP). */
export function linkOperUp(link: Record<string, unknown>): boolean {
  const flags = Array.isArray(link.flags) ? (link.flags as unknown[]) : [];
  return flags.includes('UP') && flags.includes('LOWER_UP');
}

/**
 * The report for `state` given the host's links; `links` undefined means "every interface is
 * there and up" (the dry-run driver, which touches no host).
 */
export function endpointStatusReport(
  state: Pick<DesiredState, 'workloads' | 'hostEndpoints'>,
  links: ReadonlyArray<Record<string, unknown>> | undefined,
  applyFailed = false,
): EndpointStatusReport {
  const operUp: EndpointOperStatus = applyFailed ? 'error' : 'up';
  let up: ReadonlyMap<string, boolean> | undefined;
  if (links) {
    const m = new Map<string, boolean>();
    for (const l of links) if (typeof l.ifname === 'string') m.set(l.ifname, linkOperUp(l));
    up = m;
  }
  const workloads = new Map<string, EndpointOperStatus>();
  for (const [key, { endpoint }] of state.workloads) {
    workloads.set(key, up === undefined || up.get(endpoint.name) === true ? operUp : 'down');
  }
  const hostEndpoints = new Map<string, EndpointOperStatus>();
  for (const [name, hep] of state.hostEndpoints) {
    if (hep.name === undefined || hep.name === '') continue;
    if (hep.name === '*' || up === undefined) hostEndpoints.set(name, operUp);
    else {
      const iface = up.get(hep.name);
      hostEndpoints.set(name, iface === undefined ? 'error' : iface ? operUp : 'down');
    }
  }
  return { workloads, hostEndpoints };
}
