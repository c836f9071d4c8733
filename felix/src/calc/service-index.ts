/**
 * The members of Kubernetes Service IP sets (Calico's service index for `services` in policy
 * rules), from the felix syncer's KubernetesService and KubernetesEndpointSlice updates:
 *
 *   destination set (`ip-port`)  each cluster IP . protocol . port of the Service's ports, and
 *                                each endpoint address . protocol . port of its slices' ports
 *   source set (`net`)           each endpoint address as a host CIDR
 *
 * Every endpoint of every slice counts, ready or not: a policy names the Service's pods, and a
 * pod that is starting or terminating is still that Service's pod (kube-proxy may still send it
 * traffic of existing connections). Slices whose address type is FQDN add nothing.
 *
 * Only the Kubernetes datastore produces these kinds; in etcd mode the sets stay empty, so a
 * `services` rule matches nothing (fails closed), as Calico's does without Services.
 *
 * It holds, per Service, the members each kind of set would have, and tells its listener which
 * Services changed after each update; the IP set member calculator diffs the sets it holds.
 */
import { formatIP, parseIP } from '@cattail/api';

export interface ServiceData {
  readonly clusterIPs: readonly string[];
  readonly ports: readonly ServicePort[];
}

export interface SliceData {
  /** `namespace/name` of the Service. */
  readonly service: string;
  readonly addresses: readonly string[];
  readonly ports: readonly ServicePort[];
}

export interface ServicePort {
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly port: number;
}

export type ServiceChanged = (service: string) => void;

export class ServiceIndex {
  readonly #services = new Map<string, ServiceData>();
  /** Slice key → slice. */
  readonly #slices = new Map<string, SliceData>();
  /** Service → its slices' keys. */
  readonly #byService = new Map<string, Set<string>>();
  readonly #changed: ServiceChanged;

  constructor(changed: ServiceChanged) {
    this.#changed = changed;
  }

  updateService(service: string, data: ServiceData | undefined): void {
    if (data === undefined) {
      if (!this.#services.delete(service)) return;
    } else {
      this.#services.set(service, data);
    }
    this.#changed(service);
  }

  updateSlice(key: string, data: SliceData | undefined): void {
    const old = this.#slices.get(key);
    if (old !== undefined) {
      this.#slices.delete(key);
      const keys = this.#byService.get(old.service);
      keys?.delete(key);
      if (keys?.size === 0) this.#byService.delete(old.service);
    }
    if (data !== undefined) {
      this.#slices.set(key, data);
      let keys = this.#byService.get(data.service);
      if (keys === undefined) this.#byService.set(data.service, (keys = new Set()));
      keys.add(key);
    }
    if (old !== undefined && old.service !== data?.service) this.#changed(old.service);
    if (data !== undefined) this.#changed(data.service);
  }

  /** The members of the Service's destination (`withPorts`) or source set. */
  members(service: string, withPorts: boolean): Set<string> {
    const out = new Set<string>();
    if (withPorts) {
      const svc = this.#services.get(service);
      for (const ip of svc?.clusterIPs ?? []) for (const p of svc!.ports) out.add(ipPort(ip, p));
    }
    for (const key of this.#byService.get(service) ?? []) {
      const slice = this.#slices.get(key)!;
      for (const addr of slice.addresses) {
        if (!withPorts) out.add(hostNet(addr));
        else for (const p of slice.ports) out.add(ipPort(addr, p));
      }
    }
    return out;
  }
}

function ipPort(addr: string, p: ServicePort): string {
  return `${addr},${p.protocol}:${p.port}`;
}

function hostNet(addr: string): string {
  return `${addr}/${addr.includes(':') ? 128 : 32}`;
}

/** An address in canonical text (IPv6 compressed), or undefined when it is not one. */
export function canonicalIP(text: string): string | undefined {
  const ip = parseIP(text);
  return ip ? formatIP(ip) : undefined;
}
