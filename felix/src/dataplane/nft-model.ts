/**
 * The model of our nftables table (`table inet cattail`): its sets with their elements and its
 * chains with their rule lines, in render order. The renderer (nft-render.ts) builds one from
 * the desired state; the Linux dataplane keeps the one it last programmed and sends the kernel
 * only the difference:
 *
 *   modelText(m)          the whole table as one transaction: `table {}`, `delete table`, `table { … }`
 *                         (start, periodic resync, after a failed delta)
 *   modelDelta(old, new)  only what changed, as one `nft -f` transaction, in dependency order:
 *
 *     add chain G                                  a guard (fails when the table is gone)
 *     add set X { type …; elements = { … } }       new sets; elements only added to a set
 *     flush set X ; add set X { …; elements = { all } }   a set that lost elements
 *     add set S { type … }                         each set the written chains name (no-op)
 *     add chain N                                  new regular chains, empty (so jumps to them resolve)
 *     flush chain C ; add chain C { … }            changed and new chains, whole bodies
 *     flush chain R … ; delete chain R …          removed chains (no rule refers to them any more)
 *     delete set S …                              removed sets (likewise)
 *
 * Why `add chain C { … }` and the set declarations rather than one `table … { chain C { … } }`
 * block: before it runs a batch, nft 1.0.6 fills a cache from the kernel, and how much it
 * fetches depends on the commands. A `table` block makes it dump every chain and set of the
 * table (measured at 4,500 chains and 150 sets: ~10 ms of CPU, about 40% of a one-chain
 * delta); `add chain`, `add set` and `flush chain` need only the table list. A rule that names a
 * set (`@s`) then fails in nft ("No such file or directory") unless the batch declares the set
 * first, hence `add set S { type … }`, which the kernel takes as a no-op for an existing set of
 * that type. Deleting a chain or set still makes nft fetch everything (rare: a policy gone).
 * What is left of a delta's cost is the process and the kernel's commit, which re-validates
 * every jump path of the table (nft_chain_validate) whenever a rule is added.
 *
 * Why not `add element` / `delete element`: nft 1.0.6 (Debian 12) fetches the elements of EVERY
 * set in the table before it runs an element command (measured: ~1 s per 100,000 members, for a
 * one-element change), whereas `add set` with inline elements and `flush set` fetch none. So a
 * set change costs the size of that set (all of it when members left, the additions otherwise),
 * never the size of the table. Interval sets are rendered without `auto-merge` (which would make
 * nft read the set back to merge) and their elements are normalised instead: a CIDR inside
 * another member is dropped, so the elements never overlap and a delta never conflicts.
 *
 * A set's declaration or a base chain's hook line that changes is not patched: modelDelta
 * answers `undefined` and the caller writes the whole table.
 */
import { TABLE_NAME } from './names.js';

export interface NftSet {
  /** `type ipv4_addr; flags interval;` */
  decl: string;
  /** Sorted, without duplicates. */
  elements: readonly string[];
}

export interface NftChain {
  /** Rule lines; a base chain's first line is its `type … hook …` declaration. */
  lines: readonly string[];
}

export interface NftModel {
  sets: Map<string, NftSet>;
  chains: Map<string, NftChain>;
}

export function emptyModel(): NftModel {
  return { sets: new Map(), chains: new Map() };
}

const T = `inet ${TABLE_NAME}`;

function setBlock(name: string, set: NftSet, out: string[]): void {
  out.push(`\tset ${name} {`);
  out.push(`\t\t${set.decl}`);
  if (set.elements.length > 0) out.push(`\t\telements = { ${set.elements.join(', ')} }`);
  out.push('\t}');
}

function chainBlock(name: string, chain: NftChain, out: string[]): void {
  out.push(`\tchain ${name} {`);
  for (const l of chain.lines) out.push(`\t\t${l}`);
  out.push('\t}');
}

/** The whole table as one transaction that replaces whatever table is there, atomically. */
export function modelText(model: NftModel): string {
  const out = [`table ${T} {}`, `delete table ${T}`, `table ${T} {`];
  for (const [name, set] of model.sets) setBlock(name, set, out);
  for (const [name, chain] of model.chains) chainBlock(name, chain, out);
  out.push('}');
  return `${out.join('\n')}\n`;
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A set named in a rule: `ip saddr @s4-…`, `… . th dport @svc4-…`. */
const SET_REF = /@([A-Za-z0-9_.-]+)/g;

const isBase = (lines: readonly string[]): boolean => lines.length > 0 && lines[0].startsWith('type ');

function addSet(name: string, decl: string, elements: readonly string[]): string {
  return elements.length > 0 ? `add set ${T} ${name} { ${decl} elements = { ${elements.join(', ')} }; }` : `add set ${T} ${name} { ${decl} }`;
}

/**
 * The transaction that turns a table equal to `from` into one equal to `to`: '' when they are
 * equal, undefined when only a whole-table write can do it (a set's type or a base chain's
 * hook changed).
 */
export function modelDelta(from: NftModel, to: NftModel): string | undefined {
  const out: string[] = [];
  /** Sets this transaction declares anyway. */
  const written = new Set<string>();
  for (const [name, set] of to.sets) {
    const old = from.sets.get(name);
    if (!old) {
      out.push(addSet(name, set.decl, set.elements));
      written.add(name);
      continue;
    }
    if (old.decl !== set.decl) return undefined;
    if (old.elements === set.elements) continue;
    const before = new Set(old.elements);
    const added: string[] = [];
    for (const e of set.elements) if (!before.delete(e)) added.push(e);
    if (before.size > 0) {
      out.push(`flush set ${T} ${name}`, addSet(name, set.decl, set.elements));
      written.add(name);
    } else if (added.length > 0) {
      out.push(addSet(name, set.decl, added));
      written.add(name);
    }
  }
  const created: string[] = [];
  const bodies: string[] = [];
  const named = new Set<string>();
  for (const [name, chain] of to.chains) {
    const old = from.chains.get(name);
    if (old) {
      if (sameLines(old.lines, chain.lines)) continue;
      if (isBase(old.lines) !== isBase(chain.lines) || (isBase(chain.lines) && old.lines[0] !== chain.lines[0])) return undefined;
      bodies.push(`flush chain ${T} ${name}`);
    } else if (!isBase(chain.lines)) {
      created.push(`add chain ${T} ${name}`); // a base chain is never a jump's target
    }
    if (chain.lines.length === 0) continue;
    bodies.push(`add chain ${T} ${name} {`);
    for (const l of chain.lines) {
      bodies.push(`\t${l}`);
      if (l.includes('@')) for (const m of l.matchAll(SET_REF)) named.add(m[1]);
    }
    bodies.push('}');
  }
  for (const name of named) {
    const set = to.sets.get(name);
    if (set && !written.has(name)) out.push(`add set ${T} ${name} { ${set.decl} }`);
  }
  out.push(...created, ...bodies);
  const gone = [...from.chains.keys()].filter((name) => !to.chains.has(name));
  for (const name of gone) out.push(`flush chain ${T} ${name}`);
  for (const name of gone) out.push(`delete chain ${T} ${name}`);
  for (const name of from.sets.keys()) if (!to.sets.has(name)) out.push(`delete set ${T} ${name}`);
  if (out.length === 0) return '';
  // A guard first: a no-op on a chain the table has, and an error when the table is gone, so a
  // delta never builds a partial table on top of nothing (`table … { chain … }` would).
  const anchor = from.chains.keys().next();
  if (!anchor.done) out.unshift(`add chain ${T} ${anchor.value}`);
  return `${out.join('\n')}\n`;
}

/**
 * Interval-set elements without overlap: duplicates and every CIDR inside another member are
 * dropped (CIDRs nest or are disjoint, so what is left is disjoint), then sorted. Host
 * addresses alone (the usual case: pod IPs) skip the arithmetic.
 */
export function normaliseCidrs(members: Iterable<string>, family: 4 | 6): string[] {
  const hostLen = family === 4 ? 32 : 128;
  const unique = new Map<string, string>();
  let nets = false;
  for (const m of members) {
    const slash = m.indexOf('/');
    const len = slash < 0 ? hostLen : Number(m.slice(slash + 1));
    const key = slash < 0 || len === hostLen ? (slash < 0 ? m : m.slice(0, slash)) : m;
    if (len !== hostLen) nets = true;
    if (!unique.has(key)) unique.set(key, m);
  }
  if (!nets) return [...unique.values()].sort();
  const ranges: Array<{ start: bigint; end: bigint; text: string }> = [];
  for (const text of unique.values()) {
    const slash = text.indexOf('/');
    const addr = slash < 0 ? text : text.slice(0, slash);
    const len = slash < 0 ? hostLen : Number(text.slice(slash + 1));
    const value = family === 4 ? v4Value(addr) : v6Value(addr);
    if (value === undefined || !(len >= 0 && len <= hostLen)) {
      ranges.push({ start: -1n, end: -1n, text }); // unparsable: kept as is, nft says what is wrong
      continue;
    }
    const size = 1n << BigInt(hostLen - len);
    const start = value - (value % size);
    ranges.push({ start, end: start + size - 1n, text });
  }
  ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end > b.end ? -1 : a.end < b.end ? 1 : 0));
  const kept: string[] = [];
  let coveredTo = -2n;
  for (const r of ranges) {
    if (r.start >= 0n && r.end <= coveredTo) continue;
    kept.push(r.text);
    if (r.end > coveredTo) coveredTo = r.end;
  }
  return kept.sort();
}

function v4Value(addr: string): bigint | undefined {
  const parts = addr.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0 || n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function v6Value(addr: string): bigint | undefined {
  let text = addr;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = v4Value(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return undefined;
  let v = 0n;
  for (const g of [...head, ...Array<string>(Math.max(missing, 0)).fill('0'), ...tail]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

/** The objects that differ between two models, as `set NAME` / `chain NAME` (in either). */
export function modelChanges(from: NftModel, to: NftModel): string[] {
  const out: string[] = [];
  for (const [name, set] of to.sets) {
    const old = from.sets.get(name);
    if (!old || old.decl !== set.decl || (old.elements !== set.elements && !sameLines(old.elements, set.elements))) out.push(`set ${name}`);
  }
  for (const name of from.sets.keys()) if (!to.sets.has(name)) out.push(`set ${name}`);
  for (const [name, chain] of to.chains) {
    const old = from.chains.get(name);
    if (!old || !sameLines(old.lines, chain.lines)) out.push(`chain ${name}`);
  }
  for (const name of from.chains.keys()) if (!to.chains.has(name)) out.push(`chain ${name}`);
  return out;
}

/**
 * The table's listing (`nft list table`) split into its objects, `set NAME` / `chain NAME` →
 * block text, set elements sorted (a hash set lists them in hash order, which depends on its
 * history); undefined when there is no table or it holds a kind of object we never make.
 */
export function listingObjects(listing: string): Map<string, string> | undefined {
  const lines = listing.split('\n');
  if (!lines.some((l) => l.startsWith(`table ${T} {`))) return undefined;
  const out = new Map<string, string>();
  let key: string | undefined;
  let block: string[] = [];
  for (const line of lines) {
    if (key === undefined) {
      const m = /^\t(\S+) (\S+) \{$/.exec(line);
      if (!m) continue;
      if (m[1] !== 'set' && m[1] !== 'chain') return undefined;
      key = `${m[1]} ${m[2]}`;
      block = [];
    } else if (line === '\t}') {
      let text = block.join('\n');
      if (key.startsWith('set ')) {
        text = text.replace(/elements = \{([^}]*)\}/, (_all, list: string) => {
          const items = list
            .split(',')
            .map((e) => e.trim())
            .filter((e) => e !== '')
            .sort();
          return `elements = { ${items.join(', ')} }`;
        });
      }
      out.set(key, text);
      key = undefined;
    } else {
      block.push(line);
    }
  }
  return out;
}

/**
 * The transaction that rewrites only the `suspects` (`set X` / `chain X`) of a table whose
 * objects are `present`, to make it equal `model`: a suspect in the model is rewritten whole
 * (flush + content), one not in the model is deleted. Objects keep their place in the table, so
 * an undrifted table lists exactly as before.
 */
export function repairText(model: NftModel, suspects: ReadonlySet<string>, present: ReadonlyMap<string, string>): string {
  const out: string[] = [];
  for (const [name, set] of model.sets) {
    if (!suspects.has(`set ${name}`)) continue;
    if (present.has(`set ${name}`)) out.push(`flush set ${T} ${name}`);
    out.push(addSet(name, set.decl, set.elements));
  }
  const bodies: string[] = [];
  for (const [name, chain] of model.chains) {
    if (!suspects.has(`chain ${name}`)) continue;
    if (present.has(`chain ${name}`)) out.push(`flush chain ${T} ${name}`);
    chainBlock(name, chain, bodies);
  }
  if (bodies.length > 0) out.push(`table ${T} {`, ...bodies, '}');
  const extra = [...suspects].filter((k) => present.has(k) && !(k.startsWith('set ') ? model.sets.has(k.slice(4)) : model.chains.has(k.slice(6))));
  for (const k of extra) if (k.startsWith('chain ')) out.push(`flush ${k.replace(' ', ` ${T} `)}`);
  for (const k of extra) if (k.startsWith('chain ')) out.push(`delete ${k.replace(' ', ` ${T} `)}`);
  for (const k of extra) if (k.startsWith('set ')) out.push(`delete ${k.replace(' ', ` ${T} `)}`);
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
