/**
 * Map-of-sets helpers for the calculation graph's indexes (label index, policy resolver, route
 * calculator, event sequencer): a key's set exists only while it has members, so `map.has(key)`
 * means "something is there" and an index never keeps empty sets of departed items.
 */

export function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let s = map.get(key);
  if (s === undefined) {
    s = new Set();
    map.set(key, s);
  }
  s.add(value);
}

export function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const s = map.get(key);
  if (s === undefined) return;
  s.delete(value);
  if (s.size === 0) map.delete(key);
}
