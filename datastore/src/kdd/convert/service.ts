/**
 * Service → KubernetesService, EndpointSlice → KubernetesEndpointSlice: the few fields Felix
 * (`services` in policy rules) and confd (per-service /32 and /128 advertisement) read, cut out
 * once here so Typha's cache holds, and every agent receives, only those. Calico's syncers carry
 * the whole objects under the same kind names.
 *
 *   Service        spec.clusterIPs (or clusterIP; "None" is headless: none), spec.externalIPs,
 *                  status.loadBalancer.ingress[].ip, spec.ports (name, protocol, port),
 *                  spec.externalTrafficPolicy, spec.type
 *   EndpointSlice  label kubernetes.io/service-name (a slice without it belongs to no Service
 *                  and is skipped), addressType, endpoints (addresses, nodeName, conditions.ready:
 *                  unset means ready, as Kubernetes documents), ports
 *
 * Values the API server would never return (a port of 70000, a protocol of "ICMP") fail the
 * conversion with a message naming the field; the object is then dropped and counted upstream.
 */
import { API_VERSION, type Resource } from '@cattail/api';
import type { K8sEndpointSlice, K8sService, K8sServicePort } from './k8s-types.js';
import { describeInput } from './names.js';
import { bool, int, list, obj, requiredName, str, strMap } from './read.js';
import { SkipSignal, convert, finish, type ConversionResult } from './result.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function serviceToCalico(svc: K8sService): ConversionResult {
  return convert(describeInput('Service', svc), () => {
    const meta = obj(svc.metadata, 'metadata');
    const name = requiredName(meta);
    const namespace = str(meta?.namespace, 'metadata.namespace') ?? 'default';
    const spec = obj(svc.spec, 'spec') ?? {};
    const out: Record<string, unknown> = {};
    const type = str(spec.type, 'spec.type');
    if (type) out.type = type;
    let clusterIPs = strings(spec.clusterIPs, 'spec.clusterIPs');
    if (clusterIPs.length === 0) {
      const one = str(spec.clusterIP, 'spec.clusterIP');
      if (one) clusterIPs = [one];
    }
    clusterIPs = clusterIPs.filter((ip) => ip !== 'None' && ip !== '');
    if (clusterIPs.length > 0) out.clusterIPs = clusterIPs;
    const externalIPs = strings(spec.externalIPs, 'spec.externalIPs');
    if (externalIPs.length > 0) out.externalIPs = externalIPs;
    const lb = obj(obj(obj(svc.status, 'status')?.loadBalancer, 'status.loadBalancer'), 'status.loadBalancer');
    const loadBalancerIPs: string[] = [];
    list(lb?.ingress, 'status.loadBalancer.ingress').forEach((ing, i) => {
      const ip = str(obj(ing, `status.loadBalancer.ingress[${i}]`)?.ip, `status.loadBalancer.ingress[${i}].ip`);
      if (ip) loadBalancerIPs.push(ip);
    });
    if (loadBalancerIPs.length > 0) out.loadBalancerIPs = loadBalancerIPs;
    const ports = portsOf(spec.ports, 'spec.ports');
    if (ports.length > 0) out.ports = ports;
    const etp = str(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy');
    if (etp) out.externalTrafficPolicy = etp;
    return finish(resource('KubernetesService', name, namespace, out), []);
  });
}

export function endpointSliceToCalico(slice: K8sEndpointSlice): ConversionResult {
  return convert(describeInput('EndpointSlice', slice), () => {
    const meta = obj(slice.metadata, 'metadata');
    const name = requiredName(meta);
    const namespace = str(meta?.namespace, 'metadata.namespace') ?? 'default';
    const serviceName = strMap(meta?.labels, 'metadata.labels')[SERVICE_NAME_LABEL];
    if (!serviceName) throw new SkipSignal('no-service', `has no ${SERVICE_NAME_LABEL} label: it belongs to no Service`);
    const out: Record<string, unknown> = { serviceName };
    const addressType = str(slice.addressType, 'addressType');
    if (addressType) out.addressType = addressType;
    const endpoints = list(slice.endpoints, 'endpoints').map((e, i) => {
      const at = `endpoints[${i}]`;
      const ep = obj(e, at) ?? {};
      const one: Record<string, unknown> = { addresses: strings(ep.addresses, `${at}.addresses`) };
      const nodeName = str(ep.nodeName, `${at}.nodeName`);
      if (nodeName) one.nodeName = nodeName;
      one.ready = bool(obj(ep.conditions, `${at}.conditions`)?.ready, `${at}.conditions.ready`) ?? true;
      return one;
    });
    if (endpoints.length > 0) out.endpoints = endpoints;
    const ports = portsOf(slice.ports, 'ports');
    if (ports.length > 0) out.ports = ports;
    return finish(resource('KubernetesEndpointSlice', name, namespace, out), []);
  });
}

function resource(kind: string, name: string, namespace: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: API_VERSION, kind, metadata: { name, namespace }, spec };
}

function strings(v: unknown, path: string): string[] {
  return list(v, path).map((s, i) => str(s, `${path}[${i}]`) ?? '');
}

function portsOf(v: unknown, path: string): Array<Record<string, unknown>> {
  return list(v, path).map((p, i) => {
    const at = `${path}[${i}]`;
    const port = obj(p, at) as K8sServicePort | undefined;
    const out: Record<string, unknown> = {};
    const name = str(port?.name, `${at}.name`);
    if (name) out.name = name;
    out.protocol = str(port?.protocol, `${at}.protocol`) ?? 'TCP';
    const n = int(port?.port, `${at}.port`);
    if (n !== undefined) out.port = n;
    return out;
  });
}
