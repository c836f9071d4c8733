/**
 * `cattail label <KIND> <NAME> (<key>=<value> [--overwrite] | <key> --remove) [-n NS]`:
 * calicoctl's label, which sets or removes ONE label of one stored resource.
 *
 *   the label and flags (key and value checked as Kubernetes label syntax), KIND, -n ─▶ open
 *   the datastore ─▶ read ─▶ set / refuse / remove ─▶ compare-and-swap on the resourceVersion
 *   read; a concurrent writer makes it re-read and decide again on the newer labels
 *
 * calicoctl's rules and words, with KIND and NAME as typed:
 *
 *   key absent                      set it         Successfully set label k on nodes node1
 *   same value                      (no error)     Successfully updated label k on nodes node1
 *   other value, no --overwrite     refused        failed to update label of nodes node1, key k is
 *                                                  already present. please use '--overwrite' ...
 *   other value, --overwrite        replaced       Successfully updated label k on nodes node1
 *   --remove, key present           removed        Successfully removed label k from nodes node1
 *   --remove, key absent            refused        cannot remove label of nodes node1, key k does
 *                                                  not exist
 *   resource absent                 refused        nodes node1 not found
 *
 * Differences from calicoctl: the label is checked before connecting (calicoctl only learns of
 * a bad key from the datastore's validator), and a lost race is retried instead of failing.
 */
import { labelValue, qualifiedName, type Resource } from '@cattail/api';
import { failureMessage } from '../calico-messages.js';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CliError, CommandFailedError, UsageError } from '../errors.js';
import { writeLine } from '../io.js';
import { hasCode, modifyResource } from '../resource-actions.js';
import { resolveTarget } from '../resource-target.js';
import { NAMESPACE_FLAG } from './common-flags.js';

export const labelCommand: Command = {
  name: 'label',
  summary: 'Add or update labels of resources.',
  usage: `${BINARY_NAME} label <KIND> <NAME> ( <key>=<value> [--overwrite] | <key> --remove )
              [--namespace=<NS>] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>] [--allow-version-mismatch]`,
  flags: [
    NAMESPACE_FLAG,
    {
      name: 'overwrite',
      help: 'Overwrite the value when the key is already present in labels (otherwise that is an error). Cannot be used with --remove.',
    },
    { name: 'remove', help: 'Remove the specified key from the labels of the resource; an error if it is not there. Cannot be used with --overwrite.' },
    ETCD_ENDPOINTS_FLAG,
    KUBECONFIG_FLAG,
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  checksClusterVersion: true,
  description: `Adds, updates or removes one label of one resource.
KIND is case-insensitive and may be plural or a short name (node, nodes, wep, ...).

Labeling a resource that does not exist is an error, and so is removing a label the
resource does not have. Setting a key the resource already has is an error unless
--overwrite is given (or the value is the same).

Examples:
  ${BINARY_NAME} label workloadendpoints nginx --namespace=default app=web
  ${BINARY_NAME} label nodes node1 cluster=frontend --overwrite
  ${BINARY_NAME} label nodes node1 cluster --remove`,
  run: runLabel,
};

type Outcome = 'set' | 'updated' | 'removed';

async function runLabel(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  if (args.positionals.length !== 3) {
    throw new UsageError(args.positionals.length < 3 ? 'KIND, NAME and a label are required' : `unexpected argument "${args.positionals[3]}"`);
  }
  const [kindName, name, labelArg] = args.positionals as [string, string, string];
  const remove = args.bool('remove');
  const overwrite = args.bool('overwrite');
  if (remove && overwrite) throw new UsageError('--overwrite and --remove cannot be used together');
  let key: string;
  let value = '';
  if (remove) {
    if (labelArg.includes('=')) throw new UsageError(`--remove takes a label key, not "${labelArg}"`);
    key = labelArg;
  } else {
    const parts = labelArg.split('=');
    if (parts.length !== 2) throw new CommandFailedError(`invalid label ${labelArg}`);
    [key, value] = parts as [string, string];
    const badValue = labelValue(value);
    if (badValue) throw new CommandFailedError(`invalid label ${labelArg}: ${badValue}`);
  }
  const badKey = qualifiedName(key);
  if (badKey) throw new CommandFailedError(`invalid label ${labelArg}: key ${badKey}`);
  const { ref } = resolveTarget(kindName, name, args.string('namespace'));
  const what = `${kindName} ${name}`;

  const ds = await ctx.datastore();
  let outcome: Outcome = 'set';
  try {
    await modifyResource(ds, ref, (stored) => {
      const labels = { ...(stored.metadata.labels ?? {}) };
      if (remove) {
        if (!Object.hasOwn(labels, key)) throw new CliError('CLI_LABEL_REFUSED', `cannot remove label of ${what}, key ${key} does not exist`);
        delete labels[key];
        outcome = 'removed';
      } else if (Object.hasOwn(labels, key)) {
        if (!overwrite && labels[key] !== value) {
          throw new CliError(
            'CLI_LABEL_REFUSED',
            `failed to update label of ${what}, key ${key} is already present. please use '--overwrite' to set a new value.`,
          );
        }
        labels[key] = value;
        outcome = 'updated';
      } else {
        labels[key] = value;
        outcome = 'set';
      }
      return withLabels(stored, labels);
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (hasCode(err, 'DATASTORE_NOT_FOUND')) throw new CommandFailedError(`${what} not found`, 1, { cause: err });
    ctx.logger.debug({ err }, 'label update failed');
    throw new CommandFailedError(`failed to update ${what}, label not changed: ${failureMessage(err, ref)}`, 1, { cause: err });
  }
  const line = {
    set: `Successfully set label ${key} on ${what}`,
    updated: `Successfully updated label ${key} on ${what}`,
    removed: `Successfully removed label ${key} from ${what}`,
  };
  writeLine(ctx.stdout, line[outcome]);
  return 0;
}

function withLabels(stored: Resource, labels: Record<string, string>): Resource {
  const { labels: _old, ...meta } = stored.metadata;
  return { ...stored, metadata: Object.keys(labels).length ? { ...meta, labels } : meta };
}
