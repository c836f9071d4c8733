/**
 * KubernetesService and KubernetesEndpointSlice views as the service index needs them: cluster
 * IPs and ports of a Service; the Service, addresses and ports of a slice. Typed views in,
 * validated by Typha (addresses are IPs, ports in range); addresses are put in canonical form
 * here so the dataplane sees one spelling of each.
 */
import { specOf, type Present } from './decode-util.js';
import { canonicalIP, type ServiceData, type ServicePort, type SliceData } from './service-index.js';

type PortIn = { protocol?: string | null; port?: number | null };

export function decodeService(u: Present<'KubernetesService'>): ServiceData {
  const spec = specOf(u.value);
  return { clusterIPs: ips(spec.clusterIPs ?? []), ports: ports(spec.ports ?? []) };
}

export function decodeSlice(u: Present<'KubernetesEndpointSlice'>): SliceData {
  const spec = specOf(u.value);
  const addresses: string[] = [];
  if (spec.addressType !== 'FQDN') for (const e of spec.endpoints ?? []) addresses.push(...ips(e.addresses ?? []));
  return { service: `${u.namespace ?? 'default'}/${spec.serviceName ?? ''}`, addresses: [...new Set(addresses)], ports: ports(spec.ports ?? []) };
}

function ips(list: readonly (string | null)[]): string[] {
  const out: string[] = [];
  for (const t of list) {
    const ip = t ? canonicalIP(t) : undefined;
    if (ip !== undefined) out.push(ip);
  }
  return out;
}

function ports(list: readonly (PortIn | null)[]): ServicePort[] {
  const out: ServicePort[] = [];
  for (const p of list) {
    if (!p || typeof p.port !== 'number') continue;
    out.push({ protocol: p.protocol === 'UDP' ? 'udp' : p.protocol === 'SCTP' ? 'sctp' : 'tcp', port: p.port });
  }
  return out;
}
