/**
 * IPAMConfiguration: cluster-wide IPAM settings, a singleton named `default` (stored at
 * /calico/ipam/v2/config). Defaults are the ones libcalico-go's IPAM uses when no configuration
 * exists: no strict affinity, blocks allocated automatically. maxBlocksPerHost is left as given
 * (absent or 0 means no limit in the stored record).
 */
import type { KindDef, WithSpec } from '../validation/kind-def.js';
import { bool, int, obj, oneOf, type Infer } from '../validation/schema.js';
import { onlyDefault } from './cluster-information.js';

const spec = obj({
  strictAffinity: bool(),
  autoAllocateBlocks: bool(),
  maxBlocksPerHost: int(0, 2147483647),
  kubeVirtVMAddressPersistence: oneOf(['Enabled', 'Disabled'] as const),
});

export type IPAMConfigurationSpec = Infer<typeof spec>;

function defaults(res: WithSpec): void {
  if (!res.metadata.name) res.metadata.name = 'default';
  res.spec.strictAffinity ??= false;
  res.spec.autoAllocateBlocks ??= true;
}

export const ipamConfiguration: KindDef = {
  kind: 'IPAMConfiguration',
  spec,
  name: onlyDefault('IPAMConfiguration'),
  defaults,
};
