/**
 * ServiceAccount → Profile `ksa.<namespace>.<name>` (libcalico-go `ServiceAccountToProfile`):
 * labelsToApply carries every service-account label under the `pcsa.` prefix plus
 * `pcsa.projectcalico.org/name`, which rules' serviceAccounts selectors match. No rules: the
 * namespace profile decides the default, this one only lends labels.
 */
import { API_VERSION } from '@cattail/api';
import type { K8sServiceAccount } from './k8s-types.js';
import { NAME_LABEL, SERVICE_ACCOUNT_LABEL_PREFIX, describeInput, serviceAccountProfileName } from './names.js';
import { prefixedLabels, profileMeta } from './profile-meta.js';
import { obj, requiredName, str, strMap } from './read.js';
import { convert, finish, type ConversionResult } from './result.js';

export function serviceAccountToProfile(serviceAccount: K8sServiceAccount): ConversionResult {
  return convert(describeInput('ServiceAccount', serviceAccount), () => {
    const meta = obj(serviceAccount.metadata, 'metadata');
    const name = requiredName(meta);
    const namespace = str(meta?.namespace, 'metadata.namespace') ?? '';
    const labels = prefixedLabels(strMap(meta?.labels, 'metadata.labels'), SERVICE_ACCOUNT_LABEL_PREFIX, NAME_LABEL, name);
    return finish(
      {
        apiVersion: API_VERSION,
        kind: 'Profile',
        metadata: profileMeta(serviceAccountProfileName(namespace, name), meta, 'serviceAccount'),
        spec: { labelsToApply: labels },
      },
      [],
    );
  });
}
