/**
 * ClusterInformation: the cluster's identity and readiness flag, written by Calico itself. There
 * is exactly one, named `default` (libcalico-go clientv3 refuses any other name).
 */
import { bool, obj, str, type Infer } from '../validation/schema.js';
import type { KindDef } from '../validation/kind-def.js';

const spec = obj({
  clusterGUID: str(),
  clusterType: str(),
  calicoVersion: str(),
  datastoreReady: bool(),
  variant: str(),
});

export type ClusterInformationSpec = Infer<typeof spec>;

/** The one name a singleton kind accepts. */
export function onlyDefault(kind: string) {
  return (name: string): string | undefined => (name === 'default' ? undefined : `"${name}" is not allowed: the only ${kind} is named "default"`);
}

export const clusterInformation: KindDef = {
  kind: 'ClusterInformation',
  spec,
  name: onlyDefault('ClusterInformation'),
};
