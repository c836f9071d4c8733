/**
 * A fixed list of replicas, as Calico's FELIX_TYPHAADDR gives one: `host:port`, a bare host
 * (port 5473), `[v6]:port`, or ws:// / wss:// URLs. A single string may hold several addresses
 * separated by commas or spaces, so an environment variable can be passed straight in. Every
 * address is checked here, at start, not at the first connect.
 */
import { toUrl, type AddressOptions, type Discovery, type Endpoint } from './endpoint.js';
import { ClientConfigError } from './errors.js';

export function staticDiscovery(list: string | ReadonlyArray<string | Endpoint>, opts: AddressOptions = {}): Discovery {
  const items = typeof list === 'string' ? list.split(/[\s,]+/).filter((s) => s !== '') : list;
  const endpoints: Endpoint[] = items.map((item) =>
    typeof item === 'string'
      ? { url: toUrl(item, opts) }
      : item.node === undefined
        ? { url: toUrl(item.url, opts) }
        : { url: toUrl(item.url, opts), node: item.node },
  );
  if (endpoints.length === 0) {
    throw new ClientConfigError('typha addresses: the list is empty; give at least one, e.g. "10.0.0.5:5473"');
  }
  Object.freeze(endpoints);
  return {
    endpoints: () => Promise.resolve(endpoints.map((e) => ({ ...e }))),
  };
}
