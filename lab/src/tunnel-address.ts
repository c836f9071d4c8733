/**
 * A node's VXLAN tunnel address, allocated as calico/node does: one IPv4 from the pool through
 * IPAM (so it comes from a block affine to the node and never collides with a pod), under the
 * handle `vxlan-tunnel-addr-<node>`. Asking again returns the address the handle already holds.
 */
import { ipam, type Datastore } from '@cattail/datastore';
import { LabError } from './errors.js';

function tunnelHandle(node: string): string {
  return `vxlan-tunnel-addr-${node}`;
}

export async function allocateTunnelAddress(ds: Datastore, node: string, poolCidr: string): Promise<string> {
  const client = new ipam.IpamClient(ds);
  const handleId = tunnelHandle(node);
  const held = await client.ipsByHandle(handleId).catch(() => []);
  const v4 = held.find((a) => a.version === 4);
  if (v4) return v4.address;
  const res = await client.autoAssign({ handleId, node, num4: 1, num6: 0, pools: [poolCidr], attrs: { node, type: 'vxlanTunnelAddress' } });
  const got = res.ipv4[0];
  if (!got) throw new LabError('LAB_IPAM', `IPAM gave ${node} no VXLAN tunnel address from ${poolCidr}`);
  return got.address;
}
