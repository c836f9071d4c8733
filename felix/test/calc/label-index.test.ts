import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector, type Selector } from '@cattail/api';
import { LabelIndex, requiredKey } from '../../src/calc/label-index.js';

/** A LabelIndex whose callbacks keep a set of "selector|item" pairs and count evaluations. */
function recorded() {
  const matches = new Set<string>();
  const events: string[] = [];
  const index = new LabelIndex({
    onMatchStarted(s, i) {
      assert.ok(!matches.has(`${s}|${i}`), `duplicate start ${s}|${i}`);
      matches.add(`${s}|${i}`);
      events.push(`+${s}|${i}`);
    },
    onMatchStopped(s, i) {
      assert.ok(matches.delete(`${s}|${i}`), `stop without start ${s}|${i}`);
      events.push(`-${s}|${i}`);
    },
  });
  return { index, matches, events };
}

test('own labels shadow parent labels, parents are read in order', () => {
  const { index, events } = recorded();
  index.updateParentLabels('p1', { env: 'prod', tier: 'web' });
  index.updateParentLabels('p2', { env: 'dev', zone: 'a' });
  index.updateSelector('prod', parseSelector('env == "prod"'));
  index.updateSelector('zone', parseSelector('zone == "a"'));
  index.updateSelector('own', parseSelector('tier == "db"'));
  index.updateItem('ep', { tier: 'db' }, ['p1', 'p2']);
  assert.deepEqual(events.sort(), ['+own|ep', '+prod|ep', '+zone|ep']);
  events.length = 0;
  // Swap the parents: env now comes from p2.
  index.updateItem('ep', { tier: 'db' }, ['p2', 'p1']);
  assert.deepEqual(events, ['-prod|ep']);
  events.length = 0;
  // The parent's labels change under the item.
  index.updateParentLabels('p2', { env: 'prod' });
  assert.deepEqual(events, ['+prod|ep', '-zone|ep']);
  events.length = 0;
  index.updateParentLabels('p2', undefined);
  assert.deepEqual(events, []); // env falls through to p1, still prod
  index.deleteItem('ep');
  assert.deepEqual(events.sort(), ['-own|ep', '-prod|ep']);
});

test('a changed selector under the same id reports only the difference', () => {
  const { index, events } = recorded();
  index.updateItem('a', { app: 'x', v: '1' }, []);
  index.updateItem('b', { app: 'x', v: '2' }, []);
  index.updateItem('c', { app: 'y' }, []);
  index.updateSelector('s', parseSelector('app == "x"'));
  assert.deepEqual(events.sort(), ['+s|a', '+s|b']);
  events.length = 0;
  index.updateSelector('s', parseSelector('app == "x" && v == "2"'));
  assert.deepEqual(events, ['-s|a']);
  events.length = 0;
  // An equivalent selector with another text matches the same items: nothing to report.
  index.updateSelector('s', parseSelector('v == "2" && app == "x"'));
  index.updateSelector('s', parseSelector('(v == "2" && app == "x")'));
  assert.deepEqual(events, []);
  index.deleteSelector('s');
  assert.deepEqual(events, ['-s|b']);
  assert.deepEqual([...index.selectorsMatching('b')], []);
});

test('required keys: what a selector cannot match without', () => {
  const cases: Array<[string, string | undefined]> = [
    ['a == "x"', 'a'],
    ['has(a)', 'a'],
    ['a in {"x"}', 'a'],
    ['a contains "x"', 'a'],
    ['a starts with "x"', 'a'],
    ['a ends with "x"', 'a'],
    ['a != "x"', undefined],
    ['a not in {"x"}', undefined],
    ['!has(a)', undefined],
    ['all()', undefined],
    ['a == "x" || b == "y"', undefined],
    ['a != "x" && b == "y"', 'b'],
    ['(a == "x" || c == "z") && has(d)', 'd'],
  ];
  for (const [text, want] of cases) assert.equal(requiredKey(parseSelector(text).root), want, text);
});

test('the index agrees with evaluating every selector on every item, through random changes', () => {
  // Deterministic pseudo-random sequence (no flakes).
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const keys = ['app', 'env', 'tier', 'zone'];
  const values = ['a', 'b', 'c'];
  const selectorTexts = [
    'all()',
    'app == "a"',
    'app != "a"',
    'has(env)',
    '!has(env)',
    'env in {"a", "b"}',
    'env not in {"a"}',
    'tier contains "b"',
    'zone starts with "c"',
    'zone ends with "a"',
    'app == "a" && env == "b"',
    'app == "a" || tier == "c"',
    '!(app == "b" && has(zone))',
    'has(app) && !has(tier)',
  ];
  const randomLabels = () => {
    const l: Record<string, string> = {};
    for (const k of keys) if (rand(2) === 0) l[k] = values[rand(values.length)]!;
    return l;
  };
  const { index, matches } = recorded();
  const items = new Map<string, { labels: Record<string, string>; parents: string[] }>();
  const parents = new Map<string, Record<string, string>>();
  const selectors = new Map<string, Selector>();

  const expected = () => {
    const out = new Set<string>();
    for (const [sid, sel] of selectors) {
      for (const [iid, it] of items) {
        const get = (k: string) => it.labels[k] ?? it.parents.map((p) => parents.get(p)?.[k]).find((v) => v !== undefined);
        if (sel.evaluate({ get })) out.add(`${sid}|${iid}`);
      }
    }
    return out;
  };

  for (let step = 0; step < 3000; step++) {
    const op = rand(10);
    if (op < 4) {
      const id = `i${rand(12)}`;
      const ps = ['p0', 'p1', 'p2'].filter(() => rand(2) === 0);
      const it = { labels: randomLabels(), parents: ps };
      items.set(id, it);
      index.updateItem(id, it.labels, it.parents);
    } else if (op < 5) {
      const id = `i${rand(12)}`;
      items.delete(id);
      index.deleteItem(id);
    } else if (op < 7) {
      const p = `p${rand(3)}`;
      if (rand(4) === 0) {
        parents.delete(p);
        index.updateParentLabels(p, undefined);
      } else {
        const l = randomLabels();
        parents.set(p, l);
        index.updateParentLabels(p, l);
      }
    } else if (op < 9) {
      const sid = `s${rand(6)}`;
      const sel = parseSelector(selectorTexts[rand(selectorTexts.length)]);
      selectors.set(sid, sel);
      index.updateSelector(sid, sel);
    } else {
      const sid = `s${rand(6)}`;
      selectors.delete(sid);
      index.deleteSelector(sid);
    }
    assert.deepEqual([...matches].sort(), [...expected()].sort(), `after step ${step}`);
  }
  // The index's own views agree with the callbacks.
  for (const sid of selectors.keys()) {
    assert.deepEqual(
      [...index.matchesOf(sid)].sort(),
      [...matches]
        .filter((m) => m.startsWith(`${sid}|`))
        .map((m) => m.split('|')[1])
        .sort(),
    );
  }
});
