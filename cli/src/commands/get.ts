/**
 * `cattail get KIND [NAME...] | -f FILE` with calicoctl's rules:
 *
 *   - KIND is any spelling calicoctl accepts (`ippools`, `pool`, `gnp`, `wep`...), any case.
 *   - Namespaced kinds read namespace `default` unless -n NS or -A (all namespaces); either
 *     flag adds a NAMESPACE column to tables. Cluster-scoped kinds refuse both.
 *   - Without names the whole kind is listed; a name that does not exist prints calicoctl's
 *     "resource does not exist" line on stderr after whatever was found, and exits 1.
 *   - Output shapes are in `output/resource-printer.ts`, columns in `output/columns.ts`.
 */
import { findKind, type KindInfo, type Resource, type ResourceRef } from '@cattail/api';
import type { Datastore } from '@cattail/datastore';
import { notFoundMessage, failureMessage } from '../calico-messages.js';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CliError, CommandFailedError, UsageError } from '../errors.js';
import { writeLine } from '../io.js';
import { readManifests } from '../manifest-input.js';
import { hasCode } from '../resource-actions.js';
import { columnsFor, type CellContext } from '../output/columns.js';
import { inGoOrder, listOf, toJson, toYaml } from '../output/resource-printer.js';
import { formatTable } from '../output/table.js';
import { ALL_NAMESPACES_FLAG, FILENAME_FLAG, NAMESPACE_FLAG, OUTPUT_FLAG, RECURSIVE_FLAG } from './common-flags.js';

type Output = { format: 'yaml' | 'json' } | { format: 'table'; headings: 'ps' | 'wide' | readonly string[] };

/** What was fetched: a whole kind (printed as one list object/table) or individual resources. */
type Fetched = { list: { kind: KindInfo; items: Resource[]; revision: number } } | { resources: Resource[] };

export const getCommand: Command = {
  name: 'get',
  summary: 'Get a resource identified by file, directory, stdin or resource type and name.',
  usage: `${BINARY_NAME} get ( (<KIND> [<NAME>...]) | --filename=<FILENAME> [--recursive] )
            [--output=<OUTPUT>] [--namespace=<NS>] [--all-namespaces] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>] [--allow-version-mismatch]`,
  flags: [FILENAME_FLAG, RECURSIVE_FLAG, OUTPUT_FLAG, NAMESPACE_FLAG, ALL_NAMESPACES_FLAG, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, ALLOW_VERSION_MISMATCH_FLAG],
  checksClusterVersion: true,
  description: `Displays resources by type and name, or those named in a file.
KIND is case-insensitive and may be plural or a short name (ippool, ippools, pool,
gnp, wep, ...). Without names every resource of the kind is listed.

Output formats (-o):
  ps              a table (the default)
  wide            a table with more columns
  custom-columns  a table with the columns given, e.g. custom-columns=NAME,CIDR
  yaml, json      the resources; data printed this way is valid input to apply`,
  run: runGet,
};

async function runGet(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  const output = parseOutput(args.string('output') ?? 'ps');
  const namespace = args.string('namespace');
  const allNamespaces = args.bool('all-namespaces');
  if (namespace && allNamespaces) {
    throw new CommandFailedError('cannot use both --namespace and --all-namespaces flags at the same time');
  }
  const filename = args.string('filename');
  if (filename !== undefined && args.positionals.length) {
    throw new UsageError('give either KIND [NAME...] or --filename, not both');
  }
  if (filename === undefined && args.positionals.length === 0) throw new UsageError('KIND is required');

  const errors: string[] = [];
  let fetched: Fetched;
  let kinds: KindInfo[];
  if (filename !== undefined) {
    const loaded = await readManifests(ctx, filename, 'identify');
    if (loaded.problems.length) throw new CommandFailedError(`Failed to execute command:\n${loaded.problems.join('\n')}`);
    const refs = loaded.resources.map(({ resource: r }) => refOfLoaded(r));
    fetched = { resources: await getEach(await ctx.datastore(), refs, errors) };
    kinds = refs.map((r) => findKind(r.kind)!);
  } else {
    const [kindName, ...names] = args.positionals as [string, ...string[]];
    const kind = findKind(kindName);
    if (!kind) throw new CommandFailedError(`Failed to get resources: resource type '${kindName}' is not supported`);
    if (!kind.namespaced && (namespace || allNamespaces)) throw new CommandFailedError(`${kind.kind} is not namespaced`);
    if (names.some((n) => n === '')) throw new CommandFailedError('resource name may not be empty');
    kinds = [kind];
    const ds = await ctx.datastore();
    const ns = kind.namespaced ? (allNamespaces ? undefined : (namespace ?? 'default')) : undefined;
    if (names.length === 0) {
      const result = await ds.list(kind.kind, ns === undefined ? undefined : { namespace: ns });
      for (const e of result.errors) writeLine(ctx.stderr, `warning: skipped an unreadable value: ${e.message}`);
      fetched = { list: { kind, items: sortForDisplay(kind, result.items), revision: result.revision } };
    } else if (kind.namespaced && allNamespaces) {
      throw new CommandFailedError('cannot use --all-namespace flag for getting a single resource');
    } else {
      const refs = names.map((name) => (ns === undefined ? { kind: kind.kind, name } : { kind: kind.kind, name, namespace: ns }));
      fetched = { resources: await getEach(ds, refs, errors) };
    }
  }

  const printNamespace = namespace !== undefined || allNamespaces;
  ctx.stdout.write(await render(ctx, fetched, output, kinds, printNamespace));
  if (errors.length) throw new CommandFailedError(errors.join('\n'));
  return 0;
}

function parseOutput(text: string): Output {
  switch (text) {
    case 'yaml':
    case 'yml':
      return { format: 'yaml' };
    case 'json':
      return { format: 'json' };
    case 'ps':
    case 'wide':
      return { format: 'table', headings: text };
  }
  if (text.startsWith('custom-columns=')) {
    const cols = text
      .slice('custom-columns='.length)
      .split(',')
      .filter((c) => c !== '');
    if (cols.length === 0) throw new CommandFailedError('need to specify at least one column');
    return { format: 'table', headings: cols };
  }
  throw new CommandFailedError(`unrecognized output format '${text}'`);
}

async function getEach(ds: Datastore, refs: readonly ResourceRef[], errors: string[]): Promise<Resource[]> {
  const found: Resource[] = [];
  for (const ref of refs) {
    try {
      found.push(await ds.get(ref));
    } catch (err) {
      if (err instanceof CliError) throw err;
      errors.push(hasCode(err, 'DATASTORE_NOT_FOUND') ? notFoundMessage(ref) : failureMessage(err, ref));
    }
  }
  return found;
}

function refOfLoaded(r: Resource): ResourceRef {
  const ref: ResourceRef = { kind: r.kind, name: r.metadata.name };
  if (r.metadata.namespace) ref.namespace = r.metadata.namespace;
  return ref;
}

/** Tiers list in policy-evaluation order, as calicoctl sorts them; everything else in key order. */
function sortForDisplay(kind: KindInfo, items: Resource[]): Resource[] {
  if (kind.kind !== 'Tier') return items;
  const order = (r: Resource): number => {
    const o = (r.spec as { order?: unknown } | undefined)?.order;
    return typeof o === 'number' ? o : Number.POSITIVE_INFINITY;
  };
  return [...items].sort((a, b) => order(a) - order(b));
}

async function render(ctx: CommandContext, fetched: Fetched, output: Output, kinds: KindInfo[], printNamespace: boolean): Promise<string> {
  if (output.format !== 'table') {
    let value: unknown;
    if ('list' in fetched) value = listOf(fetched.list.kind.kind, fetched.list.items, fetched.list.revision);
    else value = fetched.resources.length === 1 ? inGoOrder(fetched.resources[0]) : fetched.resources.map(inGoOrder);
    return output.format === 'json' ? toJson(value) : toYaml(value);
  }
  const cellCtx = await cellContext(ctx, kinds, output.headings);
  // calicoctl prints one table per result: the whole list, or each named resource on its own.
  if ('list' in fetched) return table(fetched.list.kind.kind, fetched.list.items, output.headings, printNamespace, cellCtx);
  return fetched.resources.map((r) => table(r.kind, [r], output.headings, printNamespace, cellCtx)).join('');
}

function table(
  kind: string,
  items: readonly Resource[],
  headingsSpec: 'ps' | 'wide' | readonly string[],
  printNamespace: boolean,
  cellCtx: CellContext,
): string {
  const cols = columnsFor(kind);
  let headings = typeof headingsSpec === 'string' ? cols[headingsSpec] : headingsSpec;
  const unknown = headings.find((h) => !(h in cols.cells));
  if (unknown !== undefined) {
    throw new CommandFailedError(`Unknown heading ${unknown}, valid values are: ${Object.keys(cols.cells).join(', ')}`);
  }
  if (printNamespace && 'NAMESPACE' in cols.cells && !headings.includes('NAMESPACE')) headings = ['NAMESPACE', ...headings];
  const rows = [[...headings], ...items.map((r) => headings.map((h) => cols.cells[h](r, cellCtx)))];
  return `${formatTable(rows)}\n`;
}

/** Node's ASN column shows the cluster default in parentheses: read it only when it is shown. */
async function cellContext(ctx: CommandContext, kinds: readonly KindInfo[], headings: 'ps' | 'wide' | readonly string[]): Promise<CellContext> {
  const showsAsn = kinds.some((k) => k.kind === 'Node') && (headings === 'wide' || (Array.isArray(headings) && headings.includes('ASN')));
  if (!showsAsn) return { defaultAsNumber: '64512' };
  try {
    const cfg = await (await ctx.datastore()).get({ kind: 'BGPConfiguration', name: 'default' });
    const asn = (cfg.spec as { asNumber?: unknown } | undefined)?.asNumber;
    return { defaultAsNumber: asn === undefined || asn === null ? '64512' : String(asn) };
  } catch (err) {
    if (err instanceof CliError) throw err;
    return { defaultAsNumber: hasCode(err, 'DATASTORE_NOT_FOUND') ? '64512' : 'unknown' };
  }
}
