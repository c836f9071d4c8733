/**
 * Memoised pieces of the nftables model, so that building the model for an apply costs what
 * changed, not the size of the table (at 2,000 policies a full render is hundreds of ms). A
 * piece is reused while its source object is the same one (the desired state replaces a
 * policy's, profile's or endpoint's object on every update, and bumps an IP set's generation on
 * every delta) and its `presence` is the same: the renderer's record of which referenced objects
 * exist (an IP set a rule names, a policy or profile an endpoint lists), since a missing one
 * renders differently. Options changes drop everything. Entries not used in a render are
 * forgotten at its end.
 */
import type { DesiredIPSet } from './desired-state.js';

interface Entry<T> {
  source: object;
  presence: string;
  value: T;
  round: number;
}

export class RenderCache {
  #optionsKey: string | undefined;
  #round = 0;
  #open = false;
  /** The key sets of the last render (policies, profiles, IP sets), to skip presence checks. */
  readonly #keys = new Map<string, Set<string>>();
  readonly #chains = new Map<string, Entry<string[]>>();
  readonly #sets = new Map<string, Entry<[string[], string[]]>>();

  /** Starts a render with these options (a string that changes whenever they do). */
  begin(optionsKey: string): void {
    this.#round++;
    // A render that did not end (it threw) may have left entries checked against other keys.
    if (optionsKey !== this.#optionsKey || this.#open) {
      this.#chains.clear();
      this.#sets.clear();
      this.#keys.clear();
      this.#optionsKey = optionsKey;
    }
    this.#open = true;
  }

  /**
   * Whether `keys` (the ids of the policies, profiles or IP sets) are the same as at the last
   * render. When they are, every entry's presence still holds (each entry was checked or made in
   * the last render: entries it did not use were dropped), so presence need not be recomputed.
   */
  sameKeys(kind: string, keys: ReadonlyMap<string, unknown>): boolean {
    const last = this.#keys.get(kind);
    if (last && last.size === keys.size) {
      let same = true;
      for (const k of keys.keys()) {
        if (!last.has(k)) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    this.#keys.set(kind, new Set(keys.keys()));
    return false;
  }

  /** Ends a render: forgets what it did not use. */
  end(): void {
    this.#open = false;
    for (const map of [this.#chains, this.#sets] as Array<Map<string, Entry<unknown>>>) {
      for (const [k, e] of map) if (e.round !== this.#round) map.delete(k);
    }
  }

  /** `unchanged`: what the presence depends on is as at the last render (see sameKeys). */
  chain(name: string, source: object, unchanged: boolean, presence: () => string, render: () => string[]): string[] {
    const e = this.#chains.get(name);
    if (unchanged && e && e.source === source) {
      e.round = this.#round;
      return e.value;
    }
    return this.#get(this.#chains, name, source, presence(), render);
  }

  setElements(id: string, set: DesiredIPSet, render: (set: DesiredIPSet, family: 4 | 6) => string[]): [string[], string[]] {
    return this.#get(this.#sets, id, set, String(set.generation ?? 0), () => [render(set, 4), render(set, 6)]);
  }

  #get<T>(map: Map<string, Entry<T>>, key: string, source: object, presence: string, render: () => T): T {
    const e = map.get(key);
    if (e && e.source === source && e.presence === presence) {
      e.round = this.#round;
      return e.value;
    }
    const value = render();
    map.set(key, { source, presence, value, round: this.#round });
    return value;
  }
}
