/**
 * `cattail delete KIND NAME... | -f FILE [--skip-not-exists]`, with calicoctl's batch rules:
 * every named resource is attempted; the count of deleted ones is printed, then one
 * "Failed to delete ..." line per failure (exit 1). With --skip-not-exists a resource that is
 * already gone counts as deleted. A file's documents only need to say which resource they are
 * (a resource that fails today's validation can still be deleted); a resourceVersion in the file
 * makes its delete conditional.
 *
 * SIGINT/SIGTERM, as for apply (write-command.ts): nothing is deleted if it comes while the file
 * is read; during the deletes, the one in flight is finished, none after it is started, and
 * each resource is reported as deleted, refused or not attempted; exit 130 or 143.
 */
import { describeRef, findKind, type ResourceRef } from '@cattail/api';
import { failureMessage, singleKindOf, successLine } from '../calico-messages.js';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CliError, CommandFailedError, InterruptedError, interruptedBy, UsageError } from '../errors.js';
import { interruptedBatch, type BatchOutcome } from '../interrupted-batch.js';
import { writeLine } from '../io.js';
import { readManifests } from '../manifest-input.js';
import { deleteResource, hasCode } from '../resource-actions.js';
import { FILENAME_FLAG, NAMESPACE_FLAG, RECURSIVE_FLAG, SKIP_NOT_EXISTS_FLAG } from './common-flags.js';
import { INPUT_AND_SIGNALS_HELP } from './write-command.js';

interface Target {
  ref: ResourceRef;
  resourceVersion?: string;
  /** For reports: `pools.yaml: document 2: IPPool(pool-b)`, or the reference alone. */
  label: string;
}

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'Delete a resource identified by file, directory, stdin or resource type and name.',
  usage: `${BINARY_NAME} delete ( (<KIND> [<NAME>...]) | --filename=<FILENAME> [--recursive] )
               [--skip-not-exists] [--namespace=<NS>] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>] [--allow-version-mismatch]`,
  flags: [SKIP_NOT_EXISTS_FLAG, FILENAME_FLAG, RECURSIVE_FLAG, NAMESPACE_FLAG, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, ALLOW_VERSION_MISMATCH_FLAG],
  checksClusterVersion: true,
  description: `Deletes resources by type and name, or those named in a file.
KIND is case-insensitive and may be plural or a short name (ippool, pool, gnp, ...).
Deleting a resource that does not exist is an error unless --skip-not-exists is set.

${INPUT_AND_SIGNALS_HELP}`,
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
    targets = loaded.resources.map(({ resource: r, origin }) => {
      const ref: ResourceRef = { kind: r.kind, name: r.metadata.name };
      if (r.metadata.namespace) ref.namespace = r.metadata.namespace;
      const label = `${origin}: ${describeRef(ref)}`;
      return r.metadata.resourceVersion ? { ref, resourceVersion: r.metadata.resourceVersion, label } : { ref, label };
    });
  } else {
    const [kindName, ...names] = args.positionals as [string, ...string[]];
    const kind = findKind(kindName);
    if (!kind) throw new CommandFailedError(`resource type '${kindName}' is not supported`);
    if (!kind.namespaced && namespace) throw new CommandFailedError(`${kind.kind} is not namespaced`);
    if (names.length === 0) throw new CommandFailedError('No resources specified');
    if (names.some((n) => n === '')) throw new CommandFailedError('resource name may not be empty');
    targets = names.map((name) => {
      const ref: ResourceRef = kind.namespaced ? { kind: kind.kind, name, namespace: namespace ?? 'default' } : { kind: kind.kind, name };
      return { ref, label: describeRef(ref) };
    });
  }

  const ds = await ctx.datastore();
  // calicoctl names the kind in its lines when it was typed on the command line or is uniform.
  const singleKind = fromFile ? singleKindOf(targets.map((t) => t.ref.kind)) : targets[0].ref.kind;
  const failures: string[] = [];
  const outcomes: BatchOutcome[] = [];
  const interrupted = (): InterruptedError =>
    interruptedBatch(
      ctx.stderr,
      ctx.signal,
      'delete',
      targets.map((t) => t.label),
      outcomes,
    );
  let deleted = 0;
  for (const [i, { ref, resourceVersion }] of targets.entries()) {
    if (ctx.signal.aborted) throw interrupted();
    ctx.logger.debug({ resource: ref }, 'delete resource');
    try {
      await deleteResource(ds, ref, resourceVersion);
      deleted++;
      outcomes[i] = { written: true };
    } catch (err) {
      if (err instanceof InterruptedError) throw interrupted();
      if (err instanceof CliError) throw err;
      if (args.bool('skip-not-exists') && hasCode(err, 'DATASTORE_NOT_FOUND')) {
        deleted++;
        outcomes[i] = { written: true };
        continue;
      }
      const message = failureMessage(err, ref);
      outcomes[i] = { written: false, reason: message };
      const what = singleKind ? `'${singleKind}' resource` : 'resource';
      failures.push(`Failed to delete ${what}: ${message}`);
    }
  }
  if (deleted > 0) writeLine(ctx.stdout, successLine('delete', deleted, singleKind));
  if (failures.length) throw new CommandFailedError(failures.join('\n'));
  return 0;
}
