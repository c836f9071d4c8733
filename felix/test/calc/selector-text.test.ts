import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector, SelectorSyntaxError } from '@cattail/api';
import { entityRuleSelector, globalNetworkPolicySelector, networkPolicySelector, prefixSelector } from '../../src/calc/selector-text.js';

// Expected strings are libcalico-go's own test expectations (updateprocessors/rules_test.go,
// networkpolicyprocessor_test.go, globalnetworkpolicyprocessor_test.go), so the selectors and
// hence the IP set IDs match Calico's byte for byte.

test('rule entity selectors are combined as Calico combines them', () => {
  const cases: Array<[string, Parameters<typeof entityRuleSelector>[0], string, string]> = [
    ['namespaced policy, selector', { selector: 'has(foo)' }, 'ns2', "(projectcalico.org/namespace == 'ns2') && (has(foo))"],
    ['namespaced policy, notSelector only', { notSelector: 'has(label1)' }, 'ns2', "projectcalico.org/namespace == 'ns2'"],
    ['namespaced policy, nothing', {}, 'ns2', ''],
    ['profile rule', { selector: 'has(foo)' }, '', 'has(foo)'],
    ['namespaceSelector only (global policy)', { namespaceSelector: "namespacelabel1 == 'value1'" }, '', 'pcns.namespacelabel1 == "value1"'],
    [
      'selector and namespaceSelector',
      { selector: "projectcalico.org/orchestrator == 'k8s'", namespaceSelector: "key == 'value'" },
      'namespace',
      '(pcns.key == "value") && (projectcalico.org/orchestrator == \'k8s\')',
    ],
    [
      'complex namespaceSelector',
      { namespaceSelector: "!has(key) || (has(key) && !key in {'value'})" },
      'namespace',
      '(!has(pcns.key) || (has(pcns.key) && !pcns.key in {"value"}))',
    ],
    [
      'service accounts in a namespaced policy',
      { serviceAccounts: { names: ['sa1', 'sa2'], selector: "key == 'value1'" } },
      'namespace',
      '(projectcalico.org/namespace == \'namespace\') && ((pcsa.key == "value1") && (projectcalico.org/serviceaccount in {"sa1", "sa2"}))',
    ],
    [
      'service accounts with a namespaceSelector',
      { namespaceSelector: "nskey == 'nsvalue'", serviceAccounts: { names: ['sa3'], selector: "key == 'value2'" } },
      'namespace',
      '(pcns.nskey == "nsvalue") && ((pcsa.key == "value2") && (projectcalico.org/serviceaccount in {"sa3"}))',
    ],
    [
      'service accounts, namespaceSelector and selector',
      { namespaceSelector: "nskey == 'nsvalue'", serviceAccounts: { names: ['sa3'], selector: "key == 'value2'" }, selector: 'has(label1)' },
      'namespace',
      '(pcns.nskey == "nsvalue") && (((pcsa.key == "value2") && (projectcalico.org/serviceaccount in {"sa3"})) && (has(label1)))',
    ],
    [
      'service accounts in a global policy',
      { serviceAccounts: { names: ['sa1', 'sa2'], selector: "key == 'value1'" } },
      '',
      '(pcsa.key == "value1") && (projectcalico.org/serviceaccount in {"sa1", "sa2"})',
    ],
    ['empty service account match', { serviceAccounts: {} }, '', ''],
    [
      'namespaceSelector label',
      { namespaceSelector: "namespace == 'red'", selector: 'has(label1)' },
      'namespace',
      '(pcns.namespace == "red") && (has(label1))',
    ],
    ['namespaceSelector all()', { namespaceSelector: 'all()', selector: 'has(label2)' }, 'namespace', '(has(projectcalico.org/namespace)) && (has(label2))'],
    [
      'namespaceSelector global()',
      { namespaceSelector: 'global()', selector: 'has(label3)' },
      'namespace',
      '(!has(projectcalico.org/namespace)) && (has(label3))',
    ],
  ];
  for (const [name, er, ns, want] of cases) {
    assert.equal(entityRuleSelector(er, ns), want, name);
    if (want !== '') assert.doesNotThrow(() => parseSelector(want), name);
  }
});

test('policy selectors are scoped as Calico scopes them', () => {
  assert.equal(networkPolicySelector('ns1', "mylabel == 'selectme'"), "(mylabel == 'selectme') && projectcalico.org/namespace == 'ns1'");
  assert.equal(networkPolicySelector('ns1'), "projectcalico.org/namespace == 'ns1'");
  assert.equal(networkPolicySelector('ns1', '', "role == 'db'"), '(projectcalico.org/namespace == \'ns1\') && pcsa.role == "db"');

  const sel = "mylabel == 'selectme'";
  assert.equal(globalNetworkPolicySelector(sel), sel);
  assert.equal(globalNetworkPolicySelector(sel, "name == 'testing'"), `(mylabel == 'selectme') && pcns.name == "testing"`);
  assert.equal(globalNetworkPolicySelector(sel, 'all()'), `(mylabel == 'selectme') && has(projectcalico.org/namespace)`);
  assert.equal(globalNetworkPolicySelector(sel, '', 'all()'), `(mylabel == 'selectme') && has(projectcalico.org/serviceaccount)`);
  assert.equal(
    globalNetworkPolicySelector(sel, "name == 'testing'", "role == 'development'"),
    `((mylabel == 'selectme') && pcns.name == "testing") && pcsa.role == "development"`,
  );
  assert.equal(globalNetworkPolicySelector('', '', "role == 'development'"), 'pcsa.role == "development"');
  assert.equal(globalNetworkPolicySelector('', "name == 'testing'"), 'pcns.name == "testing"');
  assert.equal(globalNetworkPolicySelector('', "name == 'testing'", "role == 'development'"), '(pcns.name == "testing") && pcsa.role == "development"');
});

test('prefixing covers every operator (checked against the hand-prefixed canonical form)', () => {
  const ops = (p: string) =>
    `${p}a == "x" && ${p}b != 'y' && ${p}c in {"1", "0"} && ${p}d not in {} && has(${p}e) && ` +
    `(${p}f contains "z" || ${p}g starts with "p") && ${p}h ends with "s" && !${p}i == 'q' && all()`;
  assert.equal(prefixSelector(ops(''), 'pcns.'), parseSelector(ops('pcns.')).toString());
});

test('prefixed selectors round-trip and keep a value holding a double quote', () => {
  for (const text of [`a == 'say "hi"'`, `x || (y && !z)`, `k in {"b", "a"}`, `all()`]) {
    const out = prefixSelector(text.replace(/\b([xyz])\b/g, 'has($1)'), 'pcsa.');
    assert.equal(parseSelector(out).toString(), out, text);
  }
  assert.equal(prefixSelector(`a == 'say "hi"'`, 'p.'), `p.a == 'say "hi"'`);
  assert.throws(() => entityRuleSelector({ namespaceSelector: 'a ==' }, ''), SelectorSyntaxError);
});
