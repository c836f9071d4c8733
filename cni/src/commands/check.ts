/**
 * CHECK (spec 0.4.0+): is the pod still as ADD left it? The addresses come from the runtime's
 * prevResult; each must still be held by this container's IPAM handle, be on the pod's
 * interface with its routes, have its host route, and be in the WorkloadEndpoint, which must
 * still be this container's. Every difference is listed in one error (code 103).
 */
import type { CommandContext } from '../context.js';
import { CheckFailedError, IncompatibleVersionError, InvalidConfigError } from '../errors.js';
import { SUPPORTED_VERSIONS } from '../config.js';
import { handleId, workloadIdentity } from '../names.js';
import { prevResultAddresses } from '../result.js';
import { readEndpoint } from '../workload-endpoint.js';

export async function cmdCheck(ctx: CommandContext): Promise<void> {
  const { conf, env } = ctx;
  if (conf.cniVersion.startsWith('0.3.')) {
    throw new IncompatibleVersionError(
      `${conf.cniVersion} (CHECK needs 0.4.0 or later)`,
      SUPPORTED_VERSIONS.filter((v) => !v.startsWith('0.3.')),
    );
  }
  const addresses = prevResultAddresses(conf.prevResult);
  if (addresses === undefined) throw new InvalidConfigError('CHECK needs prevResult (the result of ADD) in the network configuration');
  const id = workloadIdentity(env, conf.nodename);
  const problems: string[] = [];

  const handle = handleId(conf.name, env.containerId);
  const held = new Set((await ctx.ipam.ipsByHandle(handle)).map((a) => a.address));
  for (const a of addresses) if (!held.has(a.address)) problems.push(`${a.address} is not allocated to ${handle} in IPAM`);

  const wep = await readEndpoint(ctx.ds, id);
  if (!wep) problems.push(`WorkloadEndpoint ${id.namespace}/${id.wepName} does not exist`);
  else {
    const spec = (wep.spec ?? {}) as { containerID?: string; ipNetworks?: string[]; interfaceName?: string };
    if (spec.containerID !== env.containerId) problems.push(`WorkloadEndpoint ${id.wepName} belongs to container ${spec.containerID ?? '(none)'}`);
    if (spec.interfaceName !== id.hostVeth)
      problems.push(`WorkloadEndpoint ${id.wepName} names interface ${spec.interfaceName ?? '(none)'}, not ${id.hostVeth}`);
    const nets = new Set(spec.ipNetworks ?? []);
    for (const a of addresses) {
      const net = `${a.address}/${a.version === 4 ? 32 : 128}`;
      if (!nets.has(net)) problems.push(`WorkloadEndpoint ${id.wepName} lacks ${net}`);
    }
  }

  problems.push(...(await ctx.wiring.check({ netns: env.netns, ifname: env.ifname, hostVeth: id.hostVeth, addresses })));
  if (problems.length > 0) throw new CheckFailedError(problems);
}
