/**
 * The cluster's IPAMConfiguration (singleton `default` at /calico/ipam/v2/config). With none
 * stored, libcalico-go's defaults apply: no strict affinity, blocks allocated automatically,
 * no per-host block limit.
 */
import type { Datastore } from '../datastore.js';
import { NotFoundError } from '../errors.js';

export interface IpamSettings {
  /** Never borrow addresses from another host's block. */
  readonly strictAffinity: boolean;
  /** Claim new blocks for a host when its blocks are full. */
  readonly autoAllocateBlocks: boolean;
  /** Most blocks one host may claim per IP version; 0 means no limit. */
  readonly maxBlocksPerHost: number;
}

export const DEFAULT_IPAM_SETTINGS: IpamSettings = Object.freeze({ strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 });

export async function readIpamSettings(ds: Datastore): Promise<IpamSettings> {
  try {
    const res = await ds.get({ kind: 'IPAMConfiguration', name: 'default' });
    const s = (res.spec ?? {}) as { strictAffinity?: unknown; autoAllocateBlocks?: unknown; maxBlocksPerHost?: unknown };
    return {
      strictAffinity: s.strictAffinity === true,
      autoAllocateBlocks: s.autoAllocateBlocks === true,
      maxBlocksPerHost: typeof s.maxBlocksPerHost === 'number' && s.maxBlocksPerHost > 0 ? s.maxBlocksPerHost : 0,
    };
  } catch (err) {
    if (err instanceof NotFoundError) return DEFAULT_IPAM_SETTINGS;
    throw err;
  }
}
