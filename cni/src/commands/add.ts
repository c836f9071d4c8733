/**
 * ADD: addresses from IPAM, the veth pair, the WorkloadEndpoint, the result.
 *
 * On the Kubernetes datastore the pod is read first (labels, service account, pool and address
 * annotations: k8s-pod.ts), and "writing the WorkloadEndpoint" is what Calico's KDD backend
 * makes of it: the pod's `cni.projectcalico.org/podIP(s)` and `containerID` annotations, from
 * which every reader derives the endpoint.
 *
 * A retried ADD for the same container finds its addresses on its handle and reuses them, so a
 * runtime that lost our answer does not leak addresses. Any failure after allocation undoes what
 * this call did (interface, addresses) before reporting the error, so a failed ADD leaves
 * nothing behind even if the runtime never sends the DEL. The veth pair is created while IPAM
 * allocates (wiring.ts, createPair) and removed again if IPAM fails.
 */
import type * as ipam from '@cattail/datastore/ipam';
import type { CommandContext } from '../context.js';
import { errorMessage, InvalidConfigError } from '../errors.js';
import type { PodInfo } from '../k8s-pod.js';
import { handleId, workloadIdentity } from '../names.js';
import { addResult, type CniResult, type PodAddress } from '../result.js';
import { buildWorkloadEndpoint, writeEndpoint } from '../workload-endpoint.js';

export async function cmdAdd(ctx: CommandContext): Promise<CniResult> {
  const { conf, env, log } = ctx;
  const id = workloadIdentity(env, conf.nodename);
  const handle = handleId(conf.name, env.containerId);
  const want4 = conf.ipam.assignIpv4 ? 1 : 0;
  const want6 = conf.ipam.assignIpv6 ? 1 : 0;
  const mtu = await ctx.mtu();
  const pod = await podInfo(ctx, id.namespace, id.pod);
  ctx.mark?.('pod');

  // The pair needs no address: make it while IPAM allocates (a process, and round trips to the
  // datastore: they overlap). Its failure is reported below, inside the undo.
  const pairing = ctx.wiring.createPair?.({ netns: env.netns, ifname: env.ifname, hostVeth: id.hostVeth, mtu });
  pairing?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  let addresses: PodAddress[];
  try {
    addresses = pod?.noIpamAddresses
      ? noIpamAddresses(ctx, pod.noIpamAddresses)
      : pod?.requestedAddresses
        ? await assignRequested(ctx, handle, pod.requestedAddresses, id.namespace, id.pod)
        : await allocate(ctx, handle, want4, want6, id.namespace, id.pod, pod);
  } catch (err) {
    if (pairing) {
      await pairing
        .then(() => ctx.wiring.teardown(env.netns, env.ifname))
        .catch((e: unknown) => log.warn({ err: e }, `could not remove ${env.ifname}: ${errorMessage(e)}`));
    }
    throw err;
  }
  ctx.mark?.('ipam');
  log.info({ handle, addresses: addresses.map((a) => a.address), hostVeth: id.hostVeth, mtu }, 'addresses assigned');
  try {
    await pairing;
    const { containerMac } = await ctx.wiring.setup({ netns: env.netns, ifname: env.ifname, hostVeth: id.hostVeth, mtu, addresses });
    ctx.mark?.('wiring');
    const wep = buildWorkloadEndpoint({
      identity: id,
      addresses,
      containerMac,
      labels: pod?.labels ?? conf.labels,
      serviceAccountName: pod?.serviceAccountName ?? conf.serviceAccountName,
    });
    await writeEndpoint(ctx.ds, wep);
    ctx.mark?.('endpoint');
    log.info({ wep: `${id.namespace}/${id.wepName}` }, 'workload endpoint written');
    return addResult({ cniVersion: conf.cniVersion, hostVeth: id.hostVeth, ifname: env.ifname, containerMac, netns: env.netns, addresses });
  } catch (err) {
    log.warn({ err }, 'ADD failed after allocating addresses: undoing');
    await ctx.wiring.teardown(env.netns, env.ifname).catch((e: unknown) => log.warn({ err: e }, `could not remove ${env.ifname}: ${errorMessage(e)}`));
    await ctx.ipam.releaseByHandle(handle).catch((e: unknown) => log.warn({ err: e, handle }, 'could not release the addresses; DEL will'));
    throw err;
  }
}

/** The pod as the API server has it (Kubernetes datastore only; there a pod identity is required). */
async function podInfo(ctx: CommandContext, namespace: string, pod: string | undefined): Promise<PodInfo | undefined> {
  if (!ctx.pod) return undefined;
  if (pod === undefined) {
    throw new InvalidConfigError('datastore_type "kubernetes" wires Kubernetes pods: CNI_ARGS must name the pod (K8S_POD_NAMESPACE and K8S_POD_NAME)');
  }
  return ctx.pod(namespace, pod);
}

/** The addresses of the ipAddrsNoIpam annotation, where the network configuration allows them. */
function noIpamAddresses(ctx: CommandContext, addresses: readonly string[]): PodAddress[] {
  if (!ctx.conf.allowIpAddrsNoIpam) {
    throw new InvalidConfigError(
      'the pod asks for cni.projectcalico.org/ipAddrsNoIpam, which needs feature_control.ip_addrs_no_ipam: true in the network configuration',
    );
  }
  ctx.log.info({ addresses }, 'addresses from the ipAddrsNoIpam annotation: IPAM not asked');
  return addresses.map((address) => ({ address, version: address.includes(':') ? 6 : 4 }));
}

/** The addresses of the ipAddrs annotation, each from IPAM; all or none (a retried ADD keeps them). */
async function assignRequested(
  ctx: CommandContext,
  handle: string,
  requested: readonly string[],
  namespace: string,
  pod: string | undefined,
): Promise<PodAddress[]> {
  const held = (await ctx.ipam.ipsByHandle(handle)).map((a) => a.address);
  if (requested.every((a) => held.includes(a)) && held.length === requested.length) {
    ctx.log.info({ handle }, 'this container already holds its requested addresses (a retried ADD): reusing them');
    return requested.map((address) => ({ address, version: address.includes(':') ? 6 : 4 }));
  }
  if (held.length > 0) await ctx.ipam.releaseByHandle(handle);
  const attrs = workloadAttrs(ctx, namespace, pod);
  const out: PodAddress[] = [];
  try {
    for (const address of requested) {
      const a = await ctx.ipam.assignIP({ address, handleId: handle, node: ctx.conf.nodename, attrs });
      out.push(toPodAddress(a));
    }
  } catch (err) {
    await ctx.ipam.releaseByHandle(handle).catch(() => undefined);
    throw err;
  }
  return out;
}

function workloadAttrs(ctx: CommandContext, namespace: string, pod: string | undefined): Record<string, string> {
  const attrs: Record<string, string> = { node: ctx.conf.nodename, timestamp: ctx.now().toISOString() };
  if (pod !== undefined) {
    attrs.namespace = namespace;
    attrs.pod = pod;
  }
  return attrs;
}

async function allocate(
  ctx: CommandContext,
  handle: string,
  want4: number,
  want6: number,
  namespace: string,
  pod: string | undefined,
  info: PodInfo | undefined,
): Promise<PodAddress[]> {
  const held = await ctx.ipam.ipsByHandle(handle);
  const v4 = held.filter((a) => a.version === 4);
  const v6 = held.filter((a) => a.version === 6);
  if (held.length > 0 && v4.length >= want4 && v6.length >= want6) {
    ctx.log.info({ handle }, 'this container already holds addresses (a retried ADD): reusing them');
    return [...v4.slice(0, want4), ...v6.slice(0, want6)].map(toPodAddress);
  }
  if (held.length > 0) await ctx.ipam.releaseByHandle(handle);
  const attrs = workloadAttrs(ctx, namespace, pod);
  const got = await ctx.ipam.autoAssign({
    handleId: handle,
    node: ctx.conf.nodename,
    num4: want4,
    num6: want6,
    pools: [...(info?.ipv4Pools ?? ctx.conf.ipam.ipv4Pools), ...(info?.ipv6Pools ?? ctx.conf.ipam.ipv6Pools)],
    attrs,
  });
  return [...got.ipv4, ...got.ipv6].map(toPodAddress);
}

function toPodAddress(a: ipam.AssignedIP): PodAddress {
  return { address: a.address, version: a.version };
}
