/**
 * Memoised parsing for callers that see the same selector text over and over (Felix re-parses
 * every rule of a policy on each policy update, and most rules repeat).
 *
 * A bounded Map used as an LRU: a hit is re-inserted so it becomes the newest entry, and when
 * the map is full the oldest entry (first in insertion order) is dropped. That is O(1) per call
 * and needs no timers, which suits a pure package. Parsing is cheap, so the bound only caps
 * memory; it does not need tuning. Invalid text is not cached: it is rare and the error must be
 * thrown each time anyway.
 *
 * Sharing Selector objects between callers is safe because they are immutable.
 */

import { parseSelector, type Selector } from './selector.js';

export const SELECTOR_PARSE_CACHE_SIZE = 10_000;

/** Returns a parse function backed by its own LRU of at most `maxEntries` selectors. */
export function createCachedSelectorParser(maxEntries: number): (text: string) => Selector {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`selector parse cache size must be a positive integer, got ${maxEntries}`);
  }
  const cache = new Map<string, Selector>();
  return (text: string): Selector => {
    const hit = cache.get(text);
    if (hit !== undefined) {
      cache.delete(text);
      cache.set(text, hit);
      return hit;
    }
    const parsed = parseSelector(text);
    if (cache.size >= maxEntries) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(text, parsed);
    return parsed;
  };
}

/** `parseSelector` through a process-wide cache of SELECTOR_PARSE_CACHE_SIZE entries. */
export const parseSelectorCached: (text: string) => Selector = createCachedSelectorParser(SELECTOR_PARSE_CACHE_SIZE);
