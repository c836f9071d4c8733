/**
 * apply, create and replace share one flow; each is this factory with its verb:
 *
 *   read -f sources ─▶ load + validate EVERY document, within the input limits ─▶ any problem?
 *   print all, exit 1, write nothing (the datastore is not even opened) ─▶ else open it; a
 *   reference to a resource that does not exist (reference-check.ts)? print, exit 1, write
 *   nothing ─▶ initialize the datastore ─▶ write in file order ─▶ calicoctl summary
 *
 * Once writing starts, calicoctl's batch rules hold: apply and create carry on past a failed
 * resource and report all failures at the end; replace stops at the first. A datastore that
 * stops answering ends the batch at once (after saying how far it got).
 *
 * Before the first write, the datastore is initialized as calicoctl does it (clientv3's
 * EnsureInitialized: ClusterInformation `default` and the built-in tiers, created only if absent).
 * As in calicoctl, a failure there is logged and the command carries on (the user may only be
 * allowed to write some kinds), except an etcd that does not answer or a signal, which end it.
 *
 * SIGINT/SIGTERM: before the writes, the command stops with nothing written (reading and loading
 * are interruptible). During them, the resource being written is finished (its write is awaited,
 * see guarded-datastore.ts), none after it is started, and every resource of the batch is
 * reported as written, refused or not attempted (interrupted-batch.ts); exit 130 or 143.
 */
import { describeRef, refOf, type Resource } from '@cattail/api';
import { ensureInitialized, type Datastore } from '@cattail/datastore';
import { allFailedLine, failureMessage, goErrorList, partialLine, singleKindOf, successLine, type WriteVerb } from '../calico-messages.js';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CliError, CommandFailedError, InterruptedError, interruptedBy, UsageError } from '../errors.js';
import { limitsSummary } from '../input-limits.js';
import { interruptedBatch, type BatchOutcome } from '../interrupted-batch.js';
import { writeLine } from '../io.js';
import { readManifests } from '../manifest-input.js';
import { missingReferences } from '../reference-check.js';
import { applyResource, createResource, hasCode, replaceResource } from '../resource-actions.js';
import { FILENAME_FLAG, NAMESPACE_FLAG, RECURSIVE_FLAG } from './common-flags.js';

type WriteAction = (ds: Datastore, res: Resource) => Promise<Resource>;

const ACTIONS: Record<Exclude<WriteVerb, 'delete'>, WriteAction> = {
  apply: applyResource,
  create: createResource,
  replace: replaceResource,
};

/** Every write command's help ends with this: what input it takes, and what a signal does. */
export const INPUT_AND_SIGNALS_HELP = `Input is bounded; over a limit is a problem like any other (nothing is written):
${limitsSummary()
  .map((line) => `  ${line}`)
  .join('\n')}

SIGINT or SIGTERM exits 130 or 143. Before the first write, nothing is written.
After it, the write in flight is finished, no other is started, and every
resource is listed on stderr as written, refused or not attempted.`;

export interface WriteCommandSpec {
  verb: Exclude<WriteVerb, 'delete'>;
  summary: string;
  description: string;
}

export function writeCommand(spec: WriteCommandSpec): Command {
  const { verb } = spec;
  const skipExists = verb === 'create';
  return {
    name: verb,
    summary: spec.summary,
    usage: `${BINARY_NAME} ${verb} --filename=<FILENAME> [--recursive]${skipExists ? ' [--skip-exists]' : ''} [--namespace=<NS>] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>] [--allow-version-mismatch]`,
    description: `${spec.description}\n\n${INPUT_AND_SIGNALS_HELP}`,
    flags: [
      FILENAME_FLAG,
      RECURSIVE_FLAG,
      ...(skipExists ? [{ name: 'skip-exists', help: 'Skip over and treat as successful any attempts to create an entry that already exists.' }] : []),
      NAMESPACE_FLAG,
      ETCD_ENDPOINTS_FLAG,
      KUBECONFIG_FLAG,
      ALLOW_VERSION_MISMATCH_FLAG,
    ],
    checksClusterVersion: true,
    run: (ctx) => runWrite(ctx, verb),
  };
}

async function runWrite(ctx: CommandContext, verb: Exclude<WriteVerb, 'delete'>): Promise<number> {
  const { args } = ctx;
  const filename = args.string('filename');
  if (filename === undefined) throw new UsageError('--filename is required');
  if (args.positionals.length) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);

  const { resources, problems } = await readManifests(ctx, filename, 'validate').catch((err: unknown) => {
    throw err instanceof InterruptedError ? interruptedBy(ctx.signal, 'nothing was written') : err;
  });
  if (problems.length) {
    for (const p of problems) writeLine(ctx.stderr, p);
    throw new CommandFailedError(`Failed to ${verb} resources: ${problems.length} problem(s) in the input; nothing was written`);
  }

  const ds = await ctx.datastore();
  const missing = await missingReferences(ds, resources).catch((err: unknown) => {
    throw err instanceof InterruptedError ? interruptedBy(ctx.signal, 'nothing was written') : err;
  });
  if (missing.length) {
    for (const p of missing) writeLine(ctx.stderr, p);
    throw new CommandFailedError(`Failed to ${verb} resources: ${missing.length} problem(s) in the input; nothing was written`);
  }
  await initializeDatastore(ctx, ds);
  const action = ACTIONS[verb];
  const singleKind = singleKindOf(resources.map((r) => r.resource.kind));
  const outcomes: BatchOutcome[] = [];
  const interrupted = (): InterruptedError =>
    interruptedBatch(
      ctx.stderr,
      ctx.signal,
      verb,
      resources.map((r) => `${r.origin}: ${describeRef(refOf(r.resource))}`),
      outcomes,
    );
  const errors: string[] = [];
  let done = 0;
  for (const [i, { resource }] of resources.entries()) {
    if (ctx.signal.aborted) throw interrupted();
    ctx.logger.debug({ resource: refOf(resource) }, `${verb} resource`);
    try {
      await action(ds, resource);
      done++;
      outcomes[i] = { written: true };
    } catch (err) {
      // A read of this resource was cut short: nothing of it was written.
      if (err instanceof InterruptedError) throw interrupted();
      if (err instanceof CliError) {
        if (done > 0) writeLine(ctx.stdout, partialLine(verb, done, resources.length, singleKind));
        throw err;
      }
      if (verb === 'create' && ctx.args.bool('skip-exists') && hasCode(err, 'DATASTORE_ALREADY_EXISTS')) {
        done++;
        outcomes[i] = { written: true };
        continue;
      }
      ctx.logger.debug({ err, resource: refOf(resource) }, `${verb} failed`);
      const message = failureMessage(err, refOf(resource));
      errors.push(message);
      outcomes[i] = { written: false, reason: message };
      if (verb === 'replace') break;
    }
  }

  if (errors.length === 0) {
    writeLine(ctx.stdout, successLine(verb, done, singleKind));
    return 0;
  }
  // replace reports its one error bare; apply and create report the list, as calicoctl does.
  const errorText = verb === 'replace' ? errors[0] : goErrorList(errors);
  if (done === 0) throw new CommandFailedError(allFailedLine(verb, resources.length, singleKind, errorText));
  writeLine(ctx.stdout, partialLine(verb, done, resources.length, singleKind));
  throw new CommandFailedError(`${verb === 'apply' ? 'Hit error(s)' : 'Hit error'}: ${errorText}`);
}

async function initializeDatastore(ctx: CommandContext, ds: Datastore): Promise<void> {
  try {
    const report = await ensureInitialized(ds);
    ctx.logger.debug(report, 'datastore initialized');
  } catch (err) {
    if (err instanceof InterruptedError) throw interruptedBy(ctx.signal, 'nothing of the input was written');
    if (err instanceof CliError) throw err;
    ctx.logger.info({ err }, 'Unable to initialize datastore');
  }
}
