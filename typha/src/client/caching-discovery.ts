/**
 * Keeps the last good answer: when the inner discovery fails or finds nothing (API server down,
 * DNS hiccup, all replicas briefly unready during a rollout), the client keeps trying the
 * replicas it knew rather than none. Only when nothing was ever known does the error surface.
 */
import type { Discovery, Endpoint } from './endpoint.js';
import { silentLogger, type Logger } from '../common/logger.js';

export function cachingDiscovery(inner: Discovery, opts: { logger?: Logger } = {}): Discovery {
  const log = opts.logger ?? silentLogger;
  let last: readonly Endpoint[] = [];
  return {
    async endpoints(): Promise<Endpoint[]> {
      let found: Endpoint[];
      try {
        found = await inner.endpoints();
      } catch (err) {
        if (last.length === 0) throw err;
        log.warn({ err, kept: last.length }, 'typha discovery failed; using the last known endpoints');
        return last.map(copy);
      }
      if (found.length > 0) {
        last = Object.freeze(found.map(copy));
        return found;
      }
      if (last.length > 0) log.warn({ kept: last.length }, 'typha discovery found no endpoints; using the last known ones');
      return last.map(copy);
    },
  };
}

function copy(e: Endpoint): Endpoint {
  return { ...e };
}
