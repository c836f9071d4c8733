/**
 * DEL: the endpoint (only if it is this container's), the pod's interface, then the addresses,
 * in that order, so an address is free only after nothing routes to the old pod any more.
 * Everything already gone is fine: the spec wants DEL to succeed on a half-set-up or already
 * deleted container. A datastore that cannot be reached is error 11 and the runtime retries.
 */
import type { CommandContext } from '../context.js';
import { handleId, workloadIdentity } from '../names.js';
import { deleteEndpointIfOwned } from '../workload-endpoint.js';

export async function cmdDel(ctx: CommandContext): Promise<void> {
  const { conf, env, log } = ctx;
  const id = workloadIdentity(env, conf.nodename);
  const outcome = await deleteEndpointIfOwned(ctx.ds, id);
  if (outcome === 'other-container') {
    log.info(
      { wep: `${id.namespace}/${id.wepName}`, containerId: env.containerId },
      'the workload endpoint belongs to another container of this pod: left in place',
    );
  } else {
    log.info({ wep: `${id.namespace}/${id.wepName}`, outcome }, 'workload endpoint');
  }
  ctx.mark?.('endpoint');
  await ctx.wiring.teardown(env.netns, env.ifname);
  ctx.mark?.('wiring');
  const handle = handleId(conf.name, env.containerId);
  const released = await ctx.ipam.releaseByHandle(handle);
  ctx.mark?.('ipam');
  log.info({ handle, released }, 'addresses released');
}
