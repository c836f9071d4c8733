/**
 * CalicoNodeStatus: a request for one node's agent, BGP and route status (`spec`), which
 * calico/node answers in `status` every `updatePeriodSeconds` (0: never refreshed; at most a
 * day). `node`, `classes` (1 to 3 of Agent, BGP, Routes, no repeats) and `updatePeriodSeconds`
 * are required, as the Go struct tags say (`validate:"required,..."`). The status is written
 * by Calico and carried through with its types checked.
 */
import { ip, name } from '../validation/fields.js';
import type { KindDef } from '../validation/kind-def.js';
import { arr, int, obj, oneOf, str, type Infer } from '../validation/schema.js';

const spec = obj(
  {
    node: name(),
    classes: arr(oneOf(['Agent', 'BGP', 'Routes'] as const), { unique: true, maxItems: 3 }),
    updatePeriodSeconds: int(0, 86400),
  },
  { required: ['node', 'classes', 'updatePeriodSeconds'] },
);

export type CalicoNodeStatusSpec = Infer<typeof spec>;

const daemon = obj({
  state: oneOf(['Ready', 'NotReady'] as const),
  version: str(),
  routerID: str(),
  lastBootTime: str(),
  lastReconfigurationTime: str(),
});
const peer = obj({
  peerIP: ip(),
  type: oneOf(['NodeMesh', 'NodePeer', 'GlobalPeer'] as const),
  state: oneOf(['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established', 'Close'] as const),
  since: str(),
});
const route = obj({
  type: oneOf(['FIB', 'RIB'] as const),
  destination: str(),
  gateway: str(),
  interface: str(),
  learnedFrom: obj({ sourceType: oneOf(['Kernel', 'Static', 'Direct', 'NodeMesh', 'BGPPeer'] as const), peerIP: ip() }),
});

const status = obj({
  lastUpdated: str(),
  agent: obj({ birdV4: daemon, birdV6: daemon }),
  bgp: obj({
    numberEstablishedV4: int(0),
    numberNotEstablishedV4: int(0),
    numberEstablishedV6: int(0),
    numberNotEstablishedV6: int(0),
    peersV4: arr(peer),
    peersV6: arr(peer),
  }),
  routes: obj({ routesV4: arr(route), routesV6: arr(route) }),
});

export type CalicoNodeStatusStatus = Infer<typeof status>;

export const calicoNodeStatus: KindDef = {
  kind: 'CalicoNodeStatus',
  spec,
  status,
  rules: (res, issues) => {
    if (Array.isArray(res.spec.classes) && res.spec.classes.length === 0) {
      issues.push({ path: 'spec.classes', message: 'is required: list at least one of Agent, BGP, Routes' });
    }
  },
};
