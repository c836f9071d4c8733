/**
 * IPAM's errors, one class per condition, each a DatastoreError with a stable `code` so the CNI
 * plugin can map them onto CNI error codes without reading messages:
 *
 *   IPAM_NO_POOLS         no enabled pool of that IP version applies to the node
 *   IPAM_NO_ADDRESSES     the pools are full for this node (no block left to claim, the
 *                         per-host block limit reached, or borrowing not allowed)
 *   IPAM_CONTENTION       a compare-and-swap kept losing for the whole retry budget: try again
 *   IPAM_INVALID_REQUEST  the request itself is wrong (a requested pool that does not exist)
 *   IPAM_DATASTORE_LOCKED ClusterInformation says datastoreReady: false (a migration holds the
 *                         datastore): nothing is allocated until it is unlocked
 *   IPAM_UNKNOWN_NODE     the node has no Node resource
 */
import { DatastoreError } from '../errors.js';

export class IpamError extends DatastoreError {}

export class NoPoolsError extends IpamError {
  constructor(message: string) {
    super('IPAM_NO_POOLS', message);
  }
}

export class NoAddressesError extends IpamError {
  /** How many of the requested addresses were missing. */
  readonly missing: number;
  constructor(message: string, missing: number) {
    super('IPAM_NO_ADDRESSES', message);
    this.missing = missing;
  }
}

export class IpamContentionError extends IpamError {
  constructor(what: string, attempts: number, options?: { cause?: unknown }) {
    super('IPAM_CONTENTION', `${what}: still losing concurrent updates after ${attempts} attempts; try again`, options);
  }
}

/** A requested address that is allocated or reserved already. */
export class AddressInUseError extends IpamError {
  constructor(message: string) {
    super('IPAM_ADDRESS_IN_USE', message);
  }
}

export class InvalidIpamRequestError extends IpamError {
  constructor(message: string) {
    super('IPAM_INVALID_REQUEST', message);
  }
}

export class DatastoreLockedError extends IpamError {
  constructor() {
    super(
      'IPAM_DATASTORE_LOCKED',
      'Calico is currently not ready to process requests: ClusterInformation "default" has datastoreReady false ' +
        '(the datastore migrate lock); no address is allocated until it is unlocked (calicoctl datastore migrate unlock)',
    );
  }
}

export class UnknownNodeError extends IpamError {
  readonly node: string;
  constructor(node: string, options?: { cause?: unknown }) {
    super(
      'IPAM_UNKNOWN_NODE',
      `node "${node}" has no Node resource: IPAM allocates only for a node the datastore knows (calico/node writes it at start)`,
      options,
    );
    this.node = node;
  }
}
