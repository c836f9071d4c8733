/**
 * Which selectors match which labelled items, kept current incrementally (Calico's
 * labelindex.InheritIndex / SelectorAndNamedPortIndex).
 *
 * Items are endpoints and network sets. An item's labels are its own, then those of its parents
 * in order (profiles' labelsToApply): the first that has a key wins. Items read labels through
 * `LabelLookup`, so inheritance costs no merged copy per evaluation.
 *
 *   selector added/changed  evaluate it against every item (rare: a policy or IP set appears)
 *   item added              evaluate only candidate selectors: those that need a label key
 *                           the item has (the selector's "required key", e.g. `app` for
 *                           `app == "x" && …`) plus those that need none (`all()`, `!has(x)`)
 *   item labels changed     re-evaluate only selectors that mention a key whose value changed
 *                           (Selector.labelKeys()); no other selector's result can change
 *   parent labels changed   the same, for each item inheriting from it
 *
 * Match changes are reported through `LabelIndexCallbacks` as they are found. Ids are strings;
 * a caller that indexes two kinds of thing prefixes them.
 */
import type { LabelLookup, Selector, SelectorNode } from '@cattail/api';
import type { Labels } from './decode.js';
import { addTo, removeFrom } from './map-of-sets.js';

export interface LabelIndexCallbacks {
  onMatchStarted(selectorId: string, itemId: string): void;
  onMatchStopped(selectorId: string, itemId: string): void;
}

class Parent {
  labels: Labels | undefined = undefined;
  readonly items = new Set<string>();
}

class Item implements LabelLookup {
  readonly labels: Labels;
  readonly parents: readonly Parent[];
  readonly parentIds: readonly string[];
  readonly matches: Set<string>;

  constructor(labels: Labels, parentIds: readonly string[], parents: readonly Parent[], matches: Set<string>) {
    this.labels = labels;
    this.parentIds = parentIds;
    this.parents = parents;
    this.matches = matches;
  }

  get(key: string): string | undefined {
    if (Object.hasOwn(this.labels, key)) return this.labels[key];
    for (const p of this.parents) {
      if (p.labels !== undefined && Object.hasOwn(p.labels, key)) return p.labels[key];
    }
    return undefined;
  }

  /** Calls `f` for every key the item has a value for (possibly more than once). */
  forEachKey(f: (key: string) => void): void {
    for (const k in this.labels) f(k);
    for (const p of this.parents) if (p.labels !== undefined) for (const k in p.labels) f(k);
  }
}

interface SelectorEntry {
  readonly selector: Selector;
  readonly keys: readonly string[];
  readonly requiredKey: string | undefined;
  readonly matches: Set<string>;
}

export class LabelIndex {
  readonly #callbacks: LabelIndexCallbacks;
  readonly #items = new Map<string, Item>();
  readonly #parents = new Map<string, Parent>();
  readonly #selectors = new Map<string, SelectorEntry>();
  /** Label key → selectors that mention it. */
  readonly #byKey = new Map<string, Set<string>>();
  /** Label key → selectors that cannot match an item without it. */
  readonly #byRequiredKey = new Map<string, Set<string>>();
  /** Selectors with no required key: candidates for every new item. */
  readonly #unrestricted = new Set<string>();

  constructor(callbacks: LabelIndexCallbacks) {
    this.#callbacks = callbacks;
  }

  /** Adds or replaces a selector; reports the matches that start and stop. */
  updateSelector(id: string, selector: Selector): void {
    const old = this.#selectors.get(id);
    if (old !== undefined && old.selector.uniqueId() === selector.uniqueId()) return;
    if (old !== undefined) this.#unindexSelector(id, old);
    const entry: SelectorEntry = { selector, keys: [...selector.labelKeys()], requiredKey: requiredKey(selector.root), matches: new Set() };
    this.#selectors.set(id, entry);
    for (const k of entry.keys) addTo(this.#byKey, k, id);
    if (entry.requiredKey === undefined) this.#unrestricted.add(id);
    else addTo(this.#byRequiredKey, entry.requiredKey, id);

    for (const [itemId, item] of this.#items) {
      const was = old?.matches.has(itemId) ?? false;
      if (selector.evaluate(item)) {
        entry.matches.add(itemId);
        if (!was) {
          item.matches.add(id);
          this.#callbacks.onMatchStarted(id, itemId);
        }
      } else if (was) {
        item.matches.delete(id);
        this.#callbacks.onMatchStopped(id, itemId);
      }
    }
  }

  deleteSelector(id: string): void {
    const entry = this.#selectors.get(id);
    if (entry === undefined) return;
    this.#unindexSelector(id, entry);
    this.#selectors.delete(id);
    for (const itemId of entry.matches) {
      this.#items.get(itemId)?.matches.delete(id);
      this.#callbacks.onMatchStopped(id, itemId);
    }
  }

  /** Adds or replaces an item; reports the matches that start and stop. */
  updateItem(id: string, labels: Labels, parentIds: readonly string[]): void {
    const old = this.#items.get(id);
    if (old !== undefined && old.labels === labels && sameList(old.parentIds, parentIds)) return;
    const parents = parentIds.map((p) => this.#parent(p));
    const item = new Item(labels, parentIds, parents, old?.matches ?? new Set());
    for (const p of parents) p.items.add(id);
    this.#items.set(id, item);

    let candidates: Set<string>;
    if (old === undefined) {
      candidates = new Set(this.#unrestricted);
      item.forEachKey((k) => addAll(candidates, this.#byRequiredKey.get(k)));
    } else {
      candidates = new Set();
      const collect = (k: string): void => {
        if (old.get(k) !== item.get(k)) addAll(candidates, this.#byKey.get(k));
      };
      old.forEachKey(collect);
      item.forEachKey(collect);
      for (const p of old.parentIds) if (!parentIds.includes(p)) this.#unlinkParent(p, id);
    }
    this.#reevaluate(id, item, candidates);
  }

  deleteItem(id: string): void {
    const item = this.#items.get(id);
    if (item === undefined) return;
    this.#items.delete(id);
    for (const p of item.parentIds) this.#unlinkParent(p, id);
    for (const selId of item.matches) {
      this.#selectors.get(selId)?.matches.delete(id);
      this.#callbacks.onMatchStopped(selId, id);
    }
  }

  /** Sets (or, with undefined, forgets) a parent's labels; re-evaluates its items. */
  updateParentLabels(parentId: string, labels: Labels | undefined): void {
    let parent = this.#parents.get(parentId);
    if (parent === undefined) {
      if (labels === undefined) return;
      parent = new Parent();
      this.#parents.set(parentId, parent);
    }
    const oldLabels = parent.labels;
    if (oldLabels === labels) return;
    // Record what each inheriting item saw for the parent's keys, then compare.
    const keys = new Set<string>();
    if (oldLabels !== undefined) for (const k in oldLabels) keys.add(k);
    if (labels !== undefined) for (const k in labels) keys.add(k);
    const before = new Map<string, (string | undefined)[]>();
    for (const itemId of parent.items) {
      const item = this.#items.get(itemId)!;
      before.set(
        itemId,
        [...keys].map((k) => item.get(k)),
      );
    }
    parent.labels = labels;
    for (const [itemId, values] of before) {
      const item = this.#items.get(itemId)!;
      const candidates = new Set<string>();
      let i = 0;
      for (const k of keys) {
        if (values[i++] !== item.get(k)) addAll(candidates, this.#byKey.get(k));
      }
      this.#reevaluate(itemId, item, candidates);
    }
    if (labels === undefined && parent.items.size === 0) this.#parents.delete(parentId);
  }

  /** The items `selectorId` matches now. */
  matchesOf(selectorId: string): ReadonlySet<string> {
    return this.#selectors.get(selectorId)?.matches ?? EMPTY;
  }

  /** The selectors that match `itemId` now. */
  selectorsMatching(itemId: string): ReadonlySet<string> {
    return this.#items.get(itemId)?.matches ?? EMPTY;
  }

  #reevaluate(itemId: string, item: Item, candidates: Iterable<string>): void {
    for (const selId of candidates) {
      const entry = this.#selectors.get(selId)!;
      const now = entry.selector.evaluate(item);
      if (now === item.matches.has(selId)) continue;
      if (now) {
        item.matches.add(selId);
        entry.matches.add(itemId);
        this.#callbacks.onMatchStarted(selId, itemId);
      } else {
        item.matches.delete(selId);
        entry.matches.delete(itemId);
        this.#callbacks.onMatchStopped(selId, itemId);
      }
    }
  }

  #parent(id: string): Parent {
    let p = this.#parents.get(id);
    if (p === undefined) {
      p = new Parent();
      this.#parents.set(id, p);
    }
    return p;
  }

  #unlinkParent(parentId: string, itemId: string): void {
    const p = this.#parents.get(parentId);
    if (p === undefined) return;
    p.items.delete(itemId);
    if (p.items.size === 0 && p.labels === undefined) this.#parents.delete(parentId);
  }

  #unindexSelector(id: string, entry: SelectorEntry): void {
    for (const k of entry.keys) removeFrom(this.#byKey, k, id);
    if (entry.requiredKey === undefined) this.#unrestricted.delete(id);
    else removeFrom(this.#byRequiredKey, entry.requiredKey, id);
  }
}

const EMPTY: ReadonlySet<string> = new Set();

/**
 * A label key without which the selector cannot match, or undefined when there is none
 * (`all()`, negations, `!=`, `not in`, and `||` of different keys all match items without it).
 */
export function requiredKey(node: SelectorNode): string | undefined {
  switch (node.kind) {
    case 'has':
    case 'eq':
    case 'in':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return node.key;
    case 'and':
      for (const op of node.operands) {
        const k = requiredKey(op);
        if (k !== undefined) return k;
      }
      return undefined;
    default:
      return undefined;
  }
}

function addAll(target: Set<string>, source: ReadonlySet<string> | undefined): void {
  if (source !== undefined) for (const v of source) target.add(v);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
