/**
 * `cattail patch <KIND> <NAME> --patch=<PATCH> [--type=<TYPE>] [-n NS]`: calicoctl's patch, which
 * changes part of one stored resource in place:
 *
 *   flags, patch JSON and its shape, KIND, -n ─▶ (only now) open the datastore ─▶ read the
 *   resource ─▶ apply the patch (json-patch.ts) ─▶ same identity? valid (the same checks as
 *   apply)? ─▶ compare-and-swap on the resourceVersion read; a concurrent writer makes it
 *   re-read and re-apply the patch (resource-actions.ts modifyResource)
 *
 * Output and failures are calicoctl's: `Successfully patched 1 'IPPool' resource`, or
 * `Hit error: <reason>` and exit 1. Nothing is written unless the whole patched resource is valid.
 * The patch may not change what the resource is (apiVersion, kind, name, namespace, uid,
 * creationTimestamp, resourceVersion): calicoctl would write such a patch to another resource or
 * fail in the datastore; here it is refused with its reason.
 */
import { checkResource, describeRef, isPlainObject, refOf, type Resource } from '@cattail/api';
import { failureMessage } from '../calico-messages.js';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CliError, CommandFailedError, UsageError } from '../errors.js';
import { writeLine } from '../io.js';
import { applyPatch, parsePatch, PATCH_TYPES, type Patch, type PatchType } from '../json-patch.js';
import { modifyResource } from '../resource-actions.js';
import { resolveTarget } from '../resource-target.js';
import { NAMESPACE_FLAG } from './common-flags.js';

export const patchCommand: Command = {
  name: 'patch',
  summary: 'Patch a pre-existing resource in place.',
  usage: `${BINARY_NAME} patch <KIND> <NAME> --patch=<PATCH> [--type=<TYPE>] [--namespace=<NS>] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>] [--allow-version-mismatch]`,
  flags: [
    { name: 'patch', short: 'p', value: 'PATCH', help: 'Spec to use to patch the resource (JSON).' },
    { name: 'type', short: 't', value: 'TYPE', help: 'Format of the patch: strategic (default), merge (RFC 7386) or json (RFC 6902).' },
    NAMESPACE_FLAG,
    ETCD_ENDPOINTS_FLAG,
    KUBECONFIG_FLAG,
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  checksClusterVersion: true,
  description: `Patches one resource, identified by type and name, in place. The patch is JSON.
KIND is case-insensitive and may be plural or a short name (ippool, pool, gnp, ...).

Patch types (-t):
  strategic  Kubernetes' strategic merge patch (the default). Calico's types declare no
             list merge keys, so objects merge key by key, null removes a key, lists are
             replaced whole; "$patch": "replace" or "delete" apply to an object.
  merge      JSON Merge Patch, RFC 7386.
  json       JSON Patch, RFC 6902: a list of add, remove, replace, move, copy, test.

The patched resource is validated as apply validates it; nothing is written unless it is
valid. The write is a compare-and-swap: if another writer changed the resource meanwhile,
it is read again and the patch applied again.

Examples:
  ${BINARY_NAME} patch node node-0 --patch '{"spec":{"bgp":{"routeReflectorClusterID":"224.0.0.1"}}}'
  ${BINARY_NAME} patch ippool pool-a -t json -p '[{"op":"replace","path":"/spec/disabled","value":true}]'`,
  run: runPatch,
};

async function runPatch(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  if (args.positionals.length !== 2) {
    throw new UsageError(args.positionals.length < 2 ? 'KIND and NAME are required' : `unexpected argument "${args.positionals[2]}"`);
  }
  const text = args.string('patch');
  if (text === undefined) throw new UsageError('--patch is required');
  const type = args.string('type') ?? 'strategic';
  if (!(PATCH_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`unknown patch type "${type}": use ${PATCH_TYPES.join(', ')}`);
  }
  const patch = parsePatch(text, type as PatchType);
  const [kindName, name] = args.positionals as [string, string];
  const { kind, ref } = resolveTarget(kindName, name, args.string('namespace'));

  const ds = await ctx.datastore();
  try {
    await modifyResource(ds, ref, (stored) => patched(stored, patch));
  } catch (err) {
    if (err instanceof CliError && err.code !== 'CLI_PATCH_INVALID') throw err;
    throw new CommandFailedError(`Hit error: ${err instanceof CliError ? err.message : failureMessage(err, ref)}`, 1, { cause: err });
  }
  writeLine(ctx.stdout, `Successfully patched 1 '${kind.kind}' resource`);
  return 0;
}

/** What the resource becomes; CliError CLI_PATCH_INVALID when that is not a valid resource of the same identity. */
function patched(stored: Resource, patch: Patch): Resource {
  const result = applyPatch(stored as unknown as Record<string, unknown>, patch);
  for (const field of ['apiVersion', 'kind'] as const) {
    if (result[field] !== stored[field]) throw new CliError('CLI_PATCH_INVALID', `the patch may not change ${field} of ${describeRef(refOf(stored))}`);
  }
  const meta = isPlainObject(result.metadata) ? result.metadata : {};
  for (const field of ['name', 'namespace', 'uid', 'creationTimestamp', 'resourceVersion'] as const) {
    if (meta[field] !== stored.metadata[field]) {
      throw new CliError('CLI_PATCH_INVALID', `the patch may not change metadata.${field} of ${describeRef(refOf(stored))}`);
    }
  }
  const checked = checkResource(result);
  if (!checked.ok) {
    const lines = checked.issues.map((i) => `  ${i.path || '(resource)'}: ${i.message}`);
    throw new CliError('CLI_PATCH_INVALID', `the patched ${describeRef(refOf(stored))} is not valid; nothing was written:\n${lines.join('\n')}`);
  }
  return checked.resource;
}
