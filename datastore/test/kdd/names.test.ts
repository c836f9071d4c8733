// Names and UIDs Calico derives in its Kubernetes datastore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kdd } from '../../src/index.js';

test('interface name: "cali" + 11 hex of SHA-1("<ns>.<pod>"), pinned by Calico', () => {
  // libcalico-go conversion_test.go: "If this fails, fix the code not this expect!"
  assert.equal(kdd.workloadInterfaceName('default', 'podA'), 'cali7f94ce7c295');
  // VethNameForWorkload uses the first FELIX_INTERFACEPREFIX entry; its test: "eni,veth,foo".
  assert.equal(kdd.workloadInterfaceName('namespace', 'podname', 'eni'), 'eni82111e10a96');
});

test('profile names: kns.<ns>, ksa.<ns>.<sa>, an empty namespace is "default"', () => {
  assert.equal(kdd.namespaceProfileName('shop'), 'kns.shop');
  assert.equal(kdd.serviceAccountProfileName('shop', 'web'), 'ksa.shop.web');
  assert.equal(kdd.serviceAccountProfileName('', 'web'), 'ksa.default.web');
});

test('ConvertUID reverses the bits of each byte except the version (6) and variant (8) bytes', () => {
  const cases: Array<[string, string]> = [
    ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000080'],
    ['01020304-0506-4708-890a-0b0c0d0e0f10', '8040c020-a060-4710-8950-d030b070f008'],
    // Go's uuid.Parse forms: no dashes, braces, urn:uuid:; output is always the dashed form.
    ['0102030405064708890a0b0c0d0e0f10', '8040c020-a060-4710-8950-d030b070f008'],
    ['{01020304-0506-4708-890A-0B0C0D0E0F10}', '8040c020-a060-4710-8950-d030b070f008'],
    ['urn:uuid:01020304-0506-4708-890a-0b0c0d0e0f10', '8040c020-a060-4710-8950-d030b070f008'],
  ];
  for (const [input, want] of cases) assert.equal(kdd.convertUID(input), want, input);
  // An involution: Calico converts owner references back and forth with the same function.
  const uid = '30316d51-8f68-4f8b-a27e-ac06b6e0e5b9';
  assert.equal(kdd.convertUID(kdd.convertUID(uid)), uid);
  assert.throws(() => kdd.convertUID('not-a-uid'), /not a UUID/);
});
