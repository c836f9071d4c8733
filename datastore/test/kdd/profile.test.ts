// Namespace and ServiceAccount → Profile, pinned to libcalico-go's NamespaceToProfile and
// ServiceAccountToProfile (conversion.go): prefixes, name labels, rules, UID and revisions.
import { test } from 'node:test';
import { kdd } from '../../src/index.js';
import { assertConverted, assertFailed } from './helpers.js';

const UID = '01020304-0506-4708-890a-0b0c0d0e0f10';
const CONVERTED_UID = '8040c020-a060-4710-8950-d030b070f008';

test('Namespace → kns.<name>: pcns. labels, the name label, allow-all rules, converted UID, revision "<rv>/"', () => {
  const result = kdd.namespaceToProfile({
    metadata: {
      name: 'shop',
      uid: UID,
      resourceVersion: '77',
      creationTimestamp: '2024-05-01T10:00:00Z',
      labels: { team: 'blue', 'kubernetes.io/metadata.name': 'shop' },
    },
  });
  assertConverted(result, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: { name: 'kns.shop', uid: CONVERTED_UID, resourceVersion: '77/', creationTimestamp: '2024-05-01T10:00:00Z' },
    spec: {
      ingress: [{ action: 'Allow', source: {}, destination: {} }],
      egress: [{ action: 'Allow', source: {}, destination: {} }],
      labelsToApply: { 'pcns.team': 'blue', 'pcns.kubernetes.io/metadata.name': 'shop', 'pcns.projectcalico.org/name': 'shop' },
    },
  });
});

test('a Namespace without labels still gets the name label', () => {
  assertConverted(kdd.namespaceToProfile({ metadata: { name: 'empty', resourceVersion: '5' } }), {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: { name: 'kns.empty', resourceVersion: '5/' },
    spec: {
      ingress: [{ action: 'Allow', source: {}, destination: {} }],
      egress: [{ action: 'Allow', source: {}, destination: {} }],
      labelsToApply: { 'pcns.projectcalico.org/name': 'empty' },
    },
  });
});

test('ServiceAccount → ksa.<ns>.<name>: pcsa. labels, the name label, no rules, revision "/<rv>"', () => {
  const result = kdd.serviceAccountToProfile({
    metadata: { name: 'web-sa', namespace: 'shop', uid: UID, resourceVersion: '91', labels: { role: 'frontend' } },
  });
  assertConverted(result, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: { name: 'ksa.shop.web-sa', uid: CONVERTED_UID, resourceVersion: '/91' },
    spec: { labelsToApply: { 'pcsa.role': 'frontend', 'pcsa.projectcalico.org/name': 'web-sa' } },
  });
});

test('a ServiceAccount without a namespace is in "default" (serviceAccountNameToProfileName)', () => {
  assertConverted(kdd.serviceAccountToProfile({ metadata: { name: 'builder' } }), {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: { name: 'ksa.default.builder', resourceVersion: '/' },
    spec: { labelsToApply: { 'pcsa.projectcalico.org/name': 'builder' } },
  });
});

test('malformed namespaces and service accounts fail', () => {
  // ConvertUID fails on a UID that is not a UUID, and so does Calico's conversion.
  assertFailed(kdd.namespaceToProfile({ metadata: { name: 'shop', uid: 'xyz' } }), /^Namespace shop: metadata.uid "xyz" is not a UUID$/);
  assertFailed(kdd.namespaceToProfile({ metadata: {} }), /metadata.name is missing/);
  assertFailed(
    kdd.serviceAccountToProfile({ metadata: { name: 'sa', namespace: 'x', labels: [] as unknown as Record<string, string> } }),
    /metadata.labels must be an object, not an array/,
  );
  // A label key that cannot take the pcns. prefix (name part over 63 characters) is refused by the gate.
  assertFailed(
    kdd.namespaceToProfile({ metadata: { name: 'shop', labels: { ['k'.repeat(62)]: 'v' } } }),
    /the converted Profile\(kns.shop\) is not valid: spec.labelsToApply/,
  );
});
