/**
 * `cattail delete KIND NAME... | -f FILE [--skip-not-exists]`, with calicoctl's batch rules:
 * every named resource is attempted; the count of deleted ones is printed, then one
 * "Failed to delete ..." line per failure (exit 1). With --skip-not-exists a resource that is
 * already gone counts as deleted. A file's documents only need to say which resource they are
 * (a resource that fails today's validation can still be deleted); a resourceVersion in the file
 * makes its delete conditional.
 *
 * A SIGINT/SIGTERM while the file is read stops the command with nothing deleted.
 */
import { findKind, type ResourceRef } from '@cattail/api';
import { failureMessage, singleKindOf, successLine } from '../calico-messages.js';
import { BINARY_NAME, ETCD_ENDPOINTS_FLAG, type Command, type CommandContext } from '../command.js';
import { CliError, CommandFailedError, InterruptedError, interruptedBy, UsageError } from '../errors.js';
import { writeLine } from '../io.js';
import { readManifests } from '../manifest-input.js';
import { deleteResource, hasCode } from '../resource-actions.js';
import { FILENAME_FLAG, NAMESPACE_FLAG, RECURSIVE_FLAG, SKIP_NOT_EXISTS_FLAG } from './common-flags.js';

interface Target {
  ref: ResourceRef;
  resourceVersion?: string;
}

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'Delete a resource identified by file, directory, stdin or resource type and name.',
  usage: `${BINARY_NAME} delete ( (<KIND> [<NAME>...]) | --filename=<FILENAME> [--recursive] )
               [--skip-not-exists] [--namespace=<NS>] [--etcd-endpoints=<ENDPOINTS>]`,
  flags: [SKIP_NOT_EXISTS_FLAG, FILENAME_FLAG, RECURSIVE_FLAG, NAMESPACE_FLAG, ETCD_ENDPOINTS_FLAG],
  description: `Deletes resources by type and name, or those named in a file.
KIND is case-insensitive and may be plural or a short name (ippool, pool, gnp, ...).
Deleting a resource that does not exist is an error unless --skip-not-exists is set.`,
  run: runDelete,
};

async function runDelete(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  const namespace = args.string('namespace');
  const filename = args.string('filename');
  if (filename !== undefined && args.positionals.length) {
    throw new UsageError('give either KIND [NAME...] or --filename, not both');
  }
  if (filename === undefined && args.positionals.length === 0) throw new UsageError('KIND is required');

  let targets: Target[];
  let fromFile = false;
  if (filename !== undefined) {
    fromFile = true;
    const loaded = await readManifests(ctx, filename, 'identify').catch((err: unknown) => {
      throw err instanceof InterruptedError ? interruptedBy(ctx.signal, 'nothing was deleted') : err;
    });
    if (loaded.problems.length) throw new CommandFailedError(`Failed to execute command:\n${loaded.problems.join('\n')}`);
    targets = loaded.resources.map(({ resource: r }) => {
      const ref: ResourceRef = { kind: r.kind, name: r.metadata.name };
      if (r.metadata.namespace) ref.namespace = r.metadata.namespace;
      return r.metadata.resourceVersion ? { ref, resourceVersion: r.metadata.resourceVersion } : { ref };
    });
  } else {
    const [kindName, ...names] = args.positionals as [string, ...string[]];
    const kind = findKind(kindName);
    if (!kind) throw new CommandFailedError(`resource type '${kindName}' is not supported`);
    if (!kind.namespaced && namespace) throw new CommandFailedError(`${kind.kind} is not namespaced`);
    if (names.length === 0) throw new CommandFailedError('No resources specified');
    if (names.some((n) => n === '')) throw new CommandFailedError('resource name may not be empty');
    targets = names.map((name) => ({
      ref: kind.namespaced ? { kind: kind.kind, name, namespace: namespace ?? 'default' } : { kind: kind.kind, name },
    }));
  }

  const ds = await ctx.datastore();
  // calicoctl names the kind in its lines when it was typed on the command line or is uniform.
  const singleKind = fromFile ? singleKindOf(targets.map((t) => t.ref.kind)) : targets[0]!.ref.kind;
  const failures: string[] = [];
  let deleted = 0;
  for (const { ref, resourceVersion } of targets) {
    try {
      await deleteResource(ds, ref, resourceVersion);
      deleted++;
    } catch (err) {
      if (err instanceof CliError) throw err;
      if (args.bool('skip-not-exists') && hasCode(err, 'DATASTORE_NOT_FOUND')) {
        deleted++;
        continue;
      }
      const what = singleKind ? `'${singleKind}' resource` : 'resource';
      failures.push(`Failed to delete ${what}: ${failureMessage(err, ref)}`);
    }
  }
  if (deleted > 0) writeLine(ctx.stdout, successLine('delete', deleted, singleKind));
  if (failures.length) throw new CommandFailedError(failures.join('\n'));
  return 0;
}
