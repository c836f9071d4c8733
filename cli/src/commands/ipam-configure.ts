/**
 * `cattail ipam configure --strictaffinity=<true|false> [--max-blocks-per-host=<N>]`: writes the
 * cluster's IPAMConfiguration `default`, as calicoctl does. Values are checked before the
 * datastore is opened, with Go's boolean spellings (1/t/T/TRUE/true/True and the false ones).
 * Fields not given keep their stored values; with no configuration stored, the rest are
 * libcalico-go's defaults (autoAllocateBlocks true, no per-host block limit). The write is a
 * compare-and-swap on the record's resourceVersion, repeated when another writer was first, so
 * no concurrent change to another field is lost.
 *
 * StrictAffinity true forbids borrowing addresses from other nodes' blocks; blocks already
 * claimed keep their recorded flag, but allocation follows the cluster setting (ipam-client.ts).
 */
import { API_VERSION, isPlainObject } from '@cattail/api';
import { ipam, type Datastore } from '@cattail/datastore';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { writeLine } from '../io.js';
import { hasCode } from '../resource-actions.js';

export const ipamConfigureCommand: Command = {
  name: 'configure',
  summary: 'Configure IPAM.',
  usage: `${BINARY_NAME} ipam configure [--strictaffinity=<true/false>] [--max-blocks-per-host=<number>] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>] [--allow-version-mismatch]`,
  flags: [
    {
      name: 'strictaffinity',
      value: 'true/false',
      help: 'Set StrictAffinity to true/false. When StrictAffinity is true, borrowing IP addresses is not allowed.',
    },
    { name: 'max-blocks-per-host', value: 'number', help: 'Set the maximum number of blocks that can be affine to a host (0: no limit).' },
    ETCD_ENDPOINTS_FLAG,
    KUBECONFIG_FLAG,
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  checksClusterVersion: true,
  description: 'Modify configuration for Calico IP address management.',
  run: runConfigure,
};

const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const GO_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];
const MAX_INT32 = 2147483647;

async function runConfigure(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const changes: { strictAffinity?: boolean; maxBlocksPerHost?: number } = {};
  const strict = args.string('strictaffinity');
  if (strict !== undefined) {
    if (!GO_TRUE.includes(strict) && !GO_FALSE.includes(strict)) throw new UsageError('invalid value. Use true or false to set strictaffinity');
    changes.strictAffinity = GO_TRUE.includes(strict);
  }
  const maxBlocks = args.string('max-blocks-per-host');
  if (maxBlocks !== undefined) {
    const n = /^\d+$/.test(maxBlocks) ? Number(maxBlocks) : NaN;
    if (!(n <= MAX_INT32)) throw new UsageError(`invalid value for max-blocks-per-host: "${maxBlocks}". Use a number from 0 to ${MAX_INT32}`);
    changes.maxBlocksPerHost = n;
  }
  if (Object.keys(changes).length === 0) throw new UsageError('at least one configuration option must be specified');

  await writeConfig(await ctx.datastore(), changes);
  if (changes.strictAffinity !== undefined) writeLine(ctx.stdout, `Successfully set StrictAffinity to: ${changes.strictAffinity}`);
  if (changes.maxBlocksPerHost !== undefined) writeLine(ctx.stdout, `Successfully set MaxBlocksPerHost to: ${changes.maxBlocksPerHost}`);
  return 0;
}

async function writeConfig(ds: Datastore, changes: Record<string, unknown>): Promise<void> {
  await ipam.withCasRetry(ipam.DEFAULT_RETRY, 'IPAMConfiguration default', async () => {
    let current;
    try {
      current = await ds.get({ kind: 'IPAMConfiguration', name: 'default' });
    } catch (err) {
      if (err instanceof CliError || !hasCode(err, 'DATASTORE_NOT_FOUND')) throw err;
      const d = ipam.DEFAULT_IPAM_SETTINGS;
      const spec = { strictAffinity: d.strictAffinity, autoAllocateBlocks: d.autoAllocateBlocks, maxBlocksPerHost: d.maxBlocksPerHost, ...changes };
      await ds.create({ apiVersion: API_VERSION, kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec });
      return;
    }
    const spec = { ...(isPlainObject(current.spec) ? current.spec : {}), ...changes };
    await ds.update({ ...current, spec });
  });
}
