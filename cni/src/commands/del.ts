/**
 * DEL: the endpoint (only if it is this container's) and the pod's interface, at once, then the
 * addresses, so an address is free only after nothing routes to the old pod any more. The two
 * first steps do not depend on each other (the endpoint is checked by container ID, the
 * interface is found in CNI_NETNS), and both take time: the first datastore request opens the
 * connection, and the kernel takes tens of milliseconds to delete a veth pair.
 * Everything already gone is fine: the spec wants DEL to succeed on a half-set-up or already
 * deleted container. A datastore that cannot be reached is error 11 and the runtime retries.
 */
import type { CommandContext } from '../context.js';
import { handleId, workloadIdentity } from '../names.js';
import { deleteEndpointIfOwned } from '../workload-endpoint.js';

export async function cmdDel(ctx: CommandContext): Promise<void> {
  const { conf, env, log } = ctx;
  const id = workloadIdentity(env, conf.nodename);
  const [endpoint, wiring] = await Promise.allSettled([
    deleteEndpointIfOwned(ctx.ds, id).finally(() => ctx.mark?.('endpoint')),
    ctx.wiring.teardown(env.netns, env.ifname).finally(() => ctx.mark?.('wiring')),
  ]);
  if (endpoint.status === 'rejected') throw endpoint.reason;
  if (wiring.status === 'rejected') throw wiring.reason;
  const outcome = endpoint.value;
  if (outcome === 'other-container') {
    log.info(
      { wep: `${id.namespace}/${id.wepName}`, containerId: env.containerId },
      'the workload endpoint belongs to another container of this pod: left in place',
    );
  } else {
    log.info({ wep: `${id.namespace}/${id.wepName}`, outcome }, 'workload endpoint');
  }
  const handle = handleId(conf.name, env.containerId);
  const released = await ctx.ipam.releaseByHandle(handle);
  ctx.mark?.('ipam');
  log.info({ handle, released }, 'addresses released');
}
