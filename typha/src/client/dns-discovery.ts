/**
 * Replicas from DNS: every A and AAAA record of a name, e.g. a headless Service
 * (`typha.calico-system.svc.cluster.local`), each a replica. (A ClusterIP Service name resolves to
 * one virtual IP, which works but hides the replicas from the client's ordering.) The resolver is
 * injected; the default uses the DNS protocol (node:dns/promises resolve4/resolve6), not
 * /etc/hosts. An IP literal is returned as is.
 */
import { resolve4, resolve6 } from 'node:dns/promises';
import { isIP } from 'node:net';
import { toUrl, type Discovery, type Endpoint } from './endpoint.js';
import { ClientConfigError, DiscoveryError } from './errors.js';

export interface DnsResolver {
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

export interface DnsDiscoveryOptions {
  resolver?: DnsResolver;
  /** wss:// instead of ws://. */
  secure?: boolean;
}

const defaultResolver: DnsResolver = { resolve4: (n) => resolve4(n), resolve6: (n) => resolve6(n) };

/** "No such record" answers: the family is simply absent, not a failure. */
const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

export function dnsDiscovery(name: string, port: number, opts: DnsDiscoveryOptions = {}): Discovery {
  if (typeof name !== 'string' || name.trim() === '') throw new ClientConfigError('typha DNS name is empty');
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ClientConfigError(`typha DNS discovery: port ${port} is not 1..65535`);
  }
  const resolver = opts.resolver ?? defaultResolver;
  const secure = opts.secure ?? false;
  const host = name.trim();
  return {
    async endpoints(): Promise<Endpoint[]> {
      if (isIP(host) !== 0) return [{ url: toUrl(`${isIP(host) === 6 ? `[${host}]` : host}:${port}`, { secure }) }];
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
      const addresses: string[] = [];
      const failures: unknown[] = [];
      for (const r of [v4, v6]) {
        if (r.status === 'fulfilled') addresses.push(...r.value);
        else if (!NO_RECORDS.has((r.reason as NodeJS.ErrnoException)?.code ?? '')) failures.push(r.reason);
      }
      if (addresses.length === 0 && failures.length > 0) {
        throw new DiscoveryError(`typha DNS discovery: cannot resolve "${host}": ${describe(failures[0])}`, {
          cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
        });
      }
      return [...new Set(addresses)].sort().map((ip) => ({ url: toUrl(isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`, { secure }) }));
    },
  };
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? e?.message ?? String(err);
}
