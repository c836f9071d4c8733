/**
 * How an agent finds Typha from its configuration, with Calico's precedence:
 *
 *   1. an explicit address list (FELIX_TYPHAADDR / CONFD_TYPHAADDR, `host:port[,…]` or URLs):
 *      an IP literal is used as is; a host name is resolved to ALL its A/AAAA addresses on
 *      every attempt (a headless Service or a round-robin name finds every replica);
 *   2. else a Kubernetes Service (FELIX_TYPHAK8SSERVICENAME in FELIX_TYPHAK8SNAMESPACE, default
 *      kube-system), read from its EndpointSlices with the pod's service-account credentials.
 *
 * Either way wrapped in `cachingDiscovery`, so a failed lookup keeps the last known replicas.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { cachingDiscovery } from './caching-discovery.js';
import { dnsDiscovery, type DnsResolver } from './dns-discovery.js';
import { toUrl, type Discovery, type Endpoint } from './endpoint.js';
import { ClientConfigError } from './errors.js';
import { k8sServiceDiscovery, type FetchLike } from './k8s-discovery.js';
import type { Logger } from '../common/logger.js';
import { DEFAULT_PORT } from '../protocol/transport.js';

export interface AgentDiscoveryConfig {
  /** Comma-separated `host:port` or ws(s):// URLs. */
  typhaAddr?: string;
  k8sServiceName?: string;
  k8sNamespace?: string;
  /** Service port name (default `cattail-typha`, the Helm chart's). */
  k8sPortName?: string;
  secure?: boolean;
  logger?: Logger;
  /** In-cluster environment and files, injectable for tests. */
  env?: Readonly<Record<string, string | undefined>>;
  serviceAccountDir?: string;
  resolver?: DnsResolver;
  fetch?: FetchLike;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function agentDiscovery(cfg: AgentDiscoveryConfig): Discovery {
  const secure = cfg.secure ?? false;
  const addrs = (cfg.typhaAddr ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (addrs.length > 0) return cachingDiscovery(addressDiscovery(addrs, secure, cfg.resolver), { logger: cfg.logger });
  if (cfg.k8sServiceName) {
    const env = cfg.env ?? process.env;
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? '443';
    if (!host) {
      throw new ClientConfigError('Typha Kubernetes service discovery needs KUBERNETES_SERVICE_HOST (run in a pod, or set the Typha address)');
    }
    const dir = cfg.serviceAccountDir ?? SA_DIR;
    return cachingDiscovery(
      k8sServiceDiscovery({
        namespace: cfg.k8sNamespace || 'kube-system',
        service: cfg.k8sServiceName,
        apiServer: `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`,
        token: () => readFile(`${dir}/token`, 'utf8').then((t) => t.trim()),
        ...(cfg.k8sPortName ? { portName: cfg.k8sPortName } : {}),
        secure,
        ...(cfg.fetch ? { fetch: cfg.fetch } : {}),
        ...(existsSync(`${dir}/ca.crt`) ? { ca: readFileSync(`${dir}/ca.crt`) } : {}),
      }),
      { logger: cfg.logger },
    );
  }
  throw new ClientConfigError('no way to find Typha: set the Typha address (host:port) or the Typha Kubernetes service name');
}

/** IP literals and URLs as given; host names re-resolved to every address on each attempt. */
function addressDiscovery(addrs: string[], secure: boolean, resolver: DnsResolver | undefined): Discovery {
  const parts: Discovery[] = addrs.map((a) => {
    const m = /^([A-Za-z][A-Za-z0-9.-]*)(?::(\d+))?$/.exec(a);
    if (m && isIP(m[1]) === 0 && m[1] !== 'localhost') {
      return dnsDiscovery(m[1], m[2] ? Number(m[2]) : DEFAULT_PORT, { secure, ...(resolver ? { resolver } : {}) });
    }
    const url = toUrl(a, { secure });
    return { endpoints: () => Promise.resolve([{ url }]) };
  });
  return {
    async endpoints(): Promise<Endpoint[]> {
      const lists = await Promise.allSettled(parts.map((p) => p.endpoints()));
      const found = lists.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      if (found.length === 0) {
        const failed = lists.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      return found;
    },
  };
}
