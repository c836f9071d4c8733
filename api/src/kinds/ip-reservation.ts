/**
 * IPReservation: addresses Calico IPAM must not hand out. Entries are CIDRs or bare addresses;
 * host bits are allowed (Calico's `cidrs` validator does not mask-check), repeats are not.
 */
import { cidr } from '../validation/fields.js';
import type { KindDef } from '../validation/kind-def.js';
import { arr, obj, type Infer } from '../validation/schema.js';

const spec = obj({ reservedCIDRs: arr(cidr({ bareIP: true }), { unique: true }) });

export type IPReservationSpec = Infer<typeof spec>;

export const ipReservation: KindDef = { kind: 'IPReservation', spec };
