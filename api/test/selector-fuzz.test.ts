/**
 * Randomised check of the selector module against an independent reference.
 *
 * A seeded generator builds random expression trees, writes each one out in two different
 * random spellings (quote styles, blanks, `startswith`/`not  in` forms, shuffled and repeated set
 * members, redundant parentheses, `!!` pairs), and checks that:
 * - both spellings parse to the same canonical string and unique ID;
 * - the canonical string re-parses to itself;
 * - evaluation agrees with a tiny reference interpreter written from Calico's documented
 *   semantics, for records and for LabelLookup sources;
 * - labelKeys() is exactly the set of keys in the tree.
 * The seed is fixed, so a failure reproduces; the message includes the offending text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseSelector } from '../src/selector/index.js';

type CmpOp = '==' | '!=' | 'contains' | 'starts with' | 'ends with';
type Ref =
  | { t: 'all' }
  | { t: 'has'; k: string }
  | { t: 'cmp'; op: CmpOp; k: string; v: string }
  | { t: 'set'; op: 'in' | 'not in'; k: string; vs: string[] }
  | { t: 'not'; x: Ref }
  | { t: 'and' | 'or'; xs: Ref[] };

const KEYS = ['a', 'b', 'k8s-app', 'projectcalico.org/namespace', 'constructor', 'in', 'contains', 'all'];
const VALUES = ['', 'x', 'xy', 'yx', 'a"b', "a'b", '日本', 'x y'];
const CMP_OPS: CmpOp[] = ['==', '!=', 'contains', 'starts with', 'ends with'];

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly #rand: () => number;
  constructor(seed: number) {
    this.#rand = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.#rand() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.#rand() < p;
  }
}

function genTree(g: Gen, depth: number): Ref {
  const leafOnly = depth >= 4;
  const r = g.int(leafOnly ? 4 : 7);
  switch (r) {
    case 0:
      return g.chance(0.2) ? { t: 'all' } : { t: 'has', k: g.pick(KEYS) };
    case 1:
    case 2:
      return { t: 'cmp', op: g.pick(CMP_OPS), k: g.pick(KEYS), v: g.pick(VALUES) };
    case 3: {
      const vs = Array.from({ length: g.int(4) }, () => g.pick(VALUES));
      return { t: 'set', op: g.chance(0.5) ? 'in' : 'not in', k: g.pick(KEYS), vs };
    }
    case 4:
      return { t: 'not', x: genTree(g, depth + 1) };
    default:
      return {
        t: g.chance(0.5) ? 'and' : 'or',
        xs: Array.from({ length: 2 + g.int(2) }, () => genTree(g, depth + 1)),
      };
  }
}

function refEval(r: Ref, labels: Map<string, string>): boolean {
  switch (r.t) {
    case 'all':
      return true;
    case 'has':
      return labels.has(r.k);
    case 'cmp': {
      const v = labels.get(r.k);
      if (v === undefined) return r.op === '!=';
      if (r.op === '==') return v === r.v;
      if (r.op === '!=') return v !== r.v;
      if (r.op === 'contains') return v.includes(r.v);
      if (r.op === 'starts with') return v.startsWith(r.v);
      return v.endsWith(r.v);
    }
    case 'set': {
      const v = labels.get(r.k);
      if (v === undefined) return r.op === 'not in';
      return r.op === 'in' ? r.vs.includes(v) : !r.vs.includes(v);
    }
    case 'not':
      return !refEval(r.x, labels);
    case 'and':
      return r.xs.every((x) => refEval(x, labels));
    case 'or':
      return r.xs.some((x) => refEval(x, labels));
  }
}

function refKeys(r: Ref, out: Set<string>): Set<string> {
  if (r.t === 'has' || r.t === 'cmp' || r.t === 'set') out.add(r.k);
  else if (r.t === 'not') refKeys(r.x, out);
  else if (r.t === 'and' || r.t === 'or') for (const x of r.xs) refKeys(x, out);
  return out;
}

/** Writes `r` in a random but equivalent spelling that preserves the tree shape. */
function render(r: Ref, g: Gen): string {
  const ws = (): string => g.pick(['', '', ' ', '  ', '\t']);
  const blank = (): string => g.pick([' ', '  ', '\t', ' \t ']);
  const quote = (v: string): string => {
    const q = v.includes('"') ? "'" : v.includes("'") ? '"' : g.pick(['"', "'"]);
    return `${q}${v}${q}`;
  };
  const opText = (op: string): string => {
    if (op === 'starts with') return g.pick(['starts with', 'startswith', 'starts  with']);
    if (op === 'ends with') return g.pick(['ends with', 'endswith', 'ends\twith']);
    if (op === 'not in') return g.pick(['not in', 'notin', 'not   in']);
    return op;
  };
  let text: string;
  switch (r.t) {
    case 'all':
      text = g.pick(['all()', 'all( )']);
      break;
    case 'has':
      text = `has(${ws()}${r.k}${ws()})`;
      break;
    case 'cmp':
      // Word operators need a blank after the key, or they would be read as part of it.
      text = `${r.k}${r.op === '==' || r.op === '!=' ? ws() : blank()}${opText(r.op)}${ws()}${quote(r.v)}`;
      break;
    case 'set': {
      const members = [...r.vs];
      if (members.length > 0 && g.chance(0.5)) members.push(g.pick(members)); // duplicates
      for (let i = members.length - 1; i > 0; i--) {
        const j = g.int(i + 1);
        [members[i], members[j]] = [members[j], members[i]];
      }
      const trailing = members.length > 0 && g.chance(0.2) ? ',' : '';
      const body = members.map((v) => `${ws()}${quote(v)}${ws()}`).join(',');
      text = `${r.k}${blank()}${opText(r.op)}${ws()}{${body}${trailing}}`;
      break;
    }
    case 'not': {
      const inner = render(r.x, g);
      const needsParens = r.x.t === 'and' || r.x.t === 'or';
      text = `!${ws()}${needsParens ? `(${inner})` : inner}`;
      break;
    }
    case 'and':
    case 'or': {
      const joiner = r.t === 'and' ? '&&' : '||';
      text = r.xs
        .map((x) => {
          const inner = render(x, g);
          return x.t === 'and' || x.t === 'or' ? `(${ws()}${inner}${ws()})` : inner;
        })
        .join(`${ws()}${joiner}${ws()}`);
      break;
    }
  }
  if (g.chance(0.1)) text = `!!${ws()}${r.t === 'and' || r.t === 'or' ? `(${text})` : text}`;
  if (g.chance(0.1)) text = `(${ws()}${text}${ws()})`;
  return text;
}

function randomLabels(g: Gen): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const k of KEYS) if (g.chance(0.5)) labels[k] = g.pick(VALUES);
  return labels;
}

describe('selector randomised equivalence', () => {
  it('agrees with the reference interpreter and canonicalises spellings identically', () => {
    const g = new Gen(0xca771);
    for (let n = 0; n < 600; n++) {
      const tree = genTree(g, 0);
      const first = render(tree, g);
      const second = render(tree, g);
      const a = parseSelector(first);
      const b = parseSelector(second);
      const context = `\n  first:  ${JSON.stringify(first)}\n  second: ${JSON.stringify(second)}`;

      assert.equal(b.toString(), a.toString(), `spellings disagree${context}`);
      assert.equal(b.uniqueId(), a.uniqueId(), `IDs disagree${context}`);
      assert.equal(parseSelector(a.toString()).toString(), a.toString(), `canonical not a fixed point${context}`);
      assert.deepEqual(new Set(a.labelKeys()), refKeys(tree, new Set()), `labelKeys${context}`);

      for (let m = 0; m < 12; m++) {
        const labels = randomLabels(g);
        const map = new Map(Object.entries(labels));
        const expected = refEval(tree, map);
        assert.equal(a.evaluate(labels), expected, `record ${JSON.stringify(labels)}${context}`);
        assert.equal(b.evaluate(map), expected, `lookup ${JSON.stringify(labels)}${context}`);
      }
    }
  });
});
