/**
 * Namespace → Profile `kns.<name>` (libcalico-go `NamespaceToProfile`): labelsToApply carries
 * every namespace label under the `pcns.` prefix plus `pcns.projectcalico.org/name`, which is
 * how a rule's namespaceSelector matches the namespaces of endpoints; one Allow rule each way,
 * so a pod no policy selects keeps all its traffic, as in Kubernetes.
 */
import { API_VERSION } from '@cattail/api';
import type { K8sNamespace } from './k8s-types.js';
import { NAME_LABEL, NAMESPACE_LABEL_PREFIX, describeInput, namespaceProfileName } from './names.js';
import { prefixedLabels, profileMeta } from './profile-meta.js';
import { obj, requiredName, strMap } from './read.js';
import { convert, finish, type ConversionResult } from './result.js';

/** Calico writes `source: {}` and `destination: {}` (Go structs are never omitted). */
export const ALLOW_ALL_RULE = { action: 'Allow', source: {}, destination: {} } as const;

export function namespaceToProfile(namespace: K8sNamespace): ConversionResult {
  return convert(describeInput('Namespace', namespace), () => {
    const meta = obj(namespace.metadata, 'metadata');
    const name = requiredName(meta);
    const labels = prefixedLabels(strMap(meta?.labels, 'metadata.labels'), NAMESPACE_LABEL_PREFIX, NAME_LABEL, name);
    return finish(
      {
        apiVersion: API_VERSION,
        kind: 'Profile',
        metadata: profileMeta(namespaceProfileName(name), meta, 'namespace'),
        spec: { ingress: [{ ...ALLOW_ALL_RULE }], egress: [{ ...ALLOW_ALL_RULE }], labelsToApply: labels },
      },
      [],
    );
  });
}
