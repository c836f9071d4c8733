/**
 * Calico-style IPAM on the Datastore boundary (`import { ipam } from '@cattail/datastore'`):
 * IPAMBlock records with host affinity, IPAMHandle per owner, IPAMConfiguration settings, all
 * written with compare-and-swap. The CNI plugin uses {@link IpamClient}; the pure block
 * arithmetic is exported for tests and tools.
 */
export {
  IpamClient,
  candidateBlocks,
  type AssignedIP,
  type AutoAssignArgs,
  type AutoAssignResult,
  type IpamClientOptions,
  type ReleaseAddressRequest,
  type ReleaseOutcome,
} from './ipam-client.js';
export {
  addressBits,
  assignFromBlock,
  bigIntToIP,
  blockCount,
  blockSize,
  emptyBlock,
  freeOrdinals,
  hostAffinity,
  ipAt,
  ipToBigInt,
  isEmpty,
  normalizeBlock,
  nthBlock,
  ordinalOf,
  ordinalsForHandle,
  releaseHandle,
  releaseOrdinals,
  type AllocationAttribute,
  type AllocationBlock,
  type AssignResult,
} from './block.js';
export {
  claimBlock,
  deleteAffinity,
  dropAffinity,
  hostAffinityPrefix,
  listAllAffinities,
  listHostAffinities,
  type ClaimOptions,
  type HostAffinity,
} from './affinity.js';
export { listBlocks, readBlock, blockName, type StoredBlock } from './block-store.js';
export { adjustHandle, readHandle } from './handle.js';
export { readIpamSettings, DEFAULT_IPAM_SETTINGS, type IpamSettings } from './ipam-config.js';
export { selectPools, poolOfBlock, listReservations, reservedIn, nodeLabels, type UsablePool } from './pools.js';
export { DEFAULT_RETRY, withCasRetry, isCasLoss, type RetryPolicy } from './retry.js';
export { silentIpamLogger, type IpamLogger, type LogFn } from './logger.js';
export * from './errors.js';
