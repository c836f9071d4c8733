/**
 * `cattail version`, as calicoctl prints it: the client version, then the cluster's version and
 * type from ClusterInformation `default` (written by the node agents). Without a cluster to ask,
 * the client lines are still printed and the command fails with the reason.
 *
 * It never checks for a version mismatch (calicoctl's does not either: it is how one finds one);
 * --allow-version-mismatch is accepted, as calicoctl accepts it, and changes nothing.
 */
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, type Command, type CommandContext } from '../command.js';
import { CliError, CommandFailedError } from '../errors.js';
import { writeLine } from '../io.js';
import { failureMessage } from '../calico-messages.js';
import { clientVersion } from '../version-info.js';

export const versionCommand: Command = {
  name: 'version',
  summary: 'Display the version of this binary.',
  usage: `${BINARY_NAME} version [--etcd-endpoints=<ENDPOINTS>] [--allow-version-mismatch]`,
  flags: [ETCD_ENDPOINTS_FLAG, ALLOW_VERSION_MISMATCH_FLAG],
  description: `Displays the client version and, from ClusterInformation "default", the version
and type of the cluster. Commands that read or write resources refuse to run when
the cluster's version is not this client's (unless --allow-version-mismatch is given).`,
  run: runVersion,
};

async function runVersion(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length) throw new CommandFailedError(`unexpected argument "${ctx.args.positionals[0]}"`);
  // Go's Println puts one space after each label: the values line up in column 19.
  writeLine(ctx.stdout, `Client Version:    ${clientVersion()}`);
  const ref = { kind: 'ClusterInformation', name: 'default' };
  let spec: Record<string, unknown>;
  try {
    const info = await (await ctx.datastore()).get(ref);
    spec = info.spec ?? {};
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CommandFailedError(`Unable to retrieve Cluster Version or Type: ${failureMessage(err, ref)}`, 1, { cause: err });
  }
  const text = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : 'unknown');
  writeLine(ctx.stdout, `Cluster Version:   ${text(spec.calicoVersion)}`);
  writeLine(ctx.stdout, `Cluster Type:      ${text(spec.clusterType)}`);
  return 0;
}
