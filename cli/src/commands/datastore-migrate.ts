/**
 * `cattail datastore migrate lock|unlock|export|import`: calicoctl's way to move a cluster from
 * etcd to the Kubernetes datastore (or back) with nothing lost.
 *
 *   (etcd)  migrate lock     ClusterInformation `default` datastoreReady: false: the CNI plugin's
 *                            IPAM refuses to allocate (IPAM_DATASTORE_LOCKED), nothing moves
 *   (etcd)  migrate export   every stored Calico resource, IPAM included, as multi-document YAML
 *                            on stdout; refused unless locked (an export of a moving datastore
 *                            would not be a copy)
 *   (kdd)   migrate import -f FILE   creates (or, on a re-run, updates) each resource: the
 *                            ClusterInformation first, so the target is locked from the start;
 *                            Nodes go onto the existing Kubernetes Nodes' annotations
 *   (kdd)   migrate unlock   datastoreReady: true
 *
 * What is not exported, because the Kubernetes datastore derives it from Kubernetes objects (as
 * calicoctl leaves it out): WorkloadEndpoints of orchestrator k8s (from Pods), the `kns.`/`ksa.`
 * Profiles (from Namespaces and ServiceAccounts) and `knp.default.*` policies (from Kubernetes
 * NetworkPolicies); the export says how many of each it left out, on stderr.
 *
 * An interrupted import leaves what it wrote (every write is a whole resource) and is resumed
 * by running it again: resources already there are updated to the file's content.
 */
import { allKinds, API_VERSION, type Resource } from '@cattail/api';
import { ConflictError, NotFoundError, type Datastore } from '@cattail/datastore';
import { BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { writeLine } from '../io.js';
import { readManifests } from '../manifest-input.js';
import { inGoOrder, toYaml } from '../output/resource-printer.js';

const CLUSTER_INFO = { kind: 'ClusterInformation', name: 'default' };

async function setReady(ds: Datastore, ready: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    let current: Resource;
    try {
      current = await ds.get(CLUSTER_INFO);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      await ds.create({ apiVersion: API_VERSION, kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { datastoreReady: ready } });
      return;
    }
    try {
      await ds.update({ ...current, spec: { ...(current.spec ?? {}), datastoreReady: ready } });
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 5) throw err;
    }
  }
}

async function locked(ds: Datastore): Promise<boolean> {
  try {
    return (await ds.get(CLUSTER_INFO)).spec?.datastoreReady === false;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

function lockCommand(name: 'lock' | 'unlock'): Command {
  return {
    name,
    summary: name === 'lock' ? 'Lock the datastore for migration (IPAM stops allocating).' : 'Unlock the datastore after a migration.',
    usage: `${BINARY_NAME} datastore migrate ${name} [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>]`,
    flags: [ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG],
    run: async (ctx) => {
      if (ctx.args.positionals.length) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
      await setReady(await ctx.datastore(), name === 'unlock');
      writeLine(ctx.stdout, name === 'lock' ? 'Datastore locked.' : 'Datastore unlocked.');
      return 0;
    },
  };
}

/** Why a stored resource stays behind, or undefined when it is exported. */
function derivedFromKubernetes(res: Resource): string | undefined {
  const name = res.metadata.name;
  if (res.kind === 'WorkloadEndpoint' && (res.spec as { orchestrator?: unknown } | undefined)?.orchestrator === 'k8s') return 'WorkloadEndpoints of Pods';
  if (res.kind === 'Profile' && (name.startsWith('kns.') || name.startsWith('ksa.'))) return 'Profiles of Namespaces and ServiceAccounts';
  if (res.kind === 'NetworkPolicy' && name.startsWith('knp.default.')) return 'Kubernetes NetworkPolicies';
  return undefined;
}

const exportCommand: Command = {
  name: 'export',
  summary: 'Export the (locked) datastore as YAML for `migrate import`.',
  usage: `${BINARY_NAME} datastore migrate export [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>]`,
  flags: [ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG],
  description: `Writes every Calico resource of the datastore, IPAM included, to stdout as YAML documents.
The datastore must be locked first (${BINARY_NAME} datastore migrate lock). What the Kubernetes
datastore derives from Kubernetes objects (pod endpoints, kns./ksa. profiles, knp.default.*
policies) is left out, and counted on stderr.`,
  run: async (ctx) => {
    if (ctx.args.positionals.length) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
    const ds = await ctx.datastore();
    if (!(await locked(ds))) {
      throw new CommandFailedError(`Datastore is not locked. Run the ${BINARY_NAME} datastore migrate lock command before exporting data.`);
    }
    const left = new Map<string, number>();
    const docs: string[] = [];
    // ClusterInformation first: importing it first locks the target for the rest.
    const kinds = allKinds()
      .filter((k) => !k.kubernetesOnly)
      .sort((a, b) => Number(b.kind === 'ClusterInformation') - Number(a.kind === 'ClusterInformation'));
    for (const k of kinds) {
      const { items } = await ds.list(k.kind);
      for (const res of items) {
        const why = derivedFromKubernetes(res);
        if (why) {
          left.set(why, (left.get(why) ?? 0) + 1);
          continue;
        }
        const { resourceVersion: _rv, ...metadata } = res.metadata;
        docs.push(toYaml(inGoOrder({ ...res, metadata })));
      }
    }
    ctx.stdout.write(docs.map((d) => `---\n${d}`).join(''));
    for (const [why, n] of left) writeLine(ctx.stderr, `left out ${n} resource(s) the Kubernetes datastore derives itself: ${why}`);
    return 0;
  },
};

const importCommand: Command = {
  name: 'import',
  summary: 'Import the output of `migrate export` into this datastore.',
  usage: `${BINARY_NAME} datastore migrate import --filename=<FILENAME> [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>]`,
  flags: [{ name: 'filename', short: 'f', value: 'FILENAME', help: 'The file `migrate export` wrote (- for stdin).' }, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG],
  description: `Creates every resource of the file (updates those already there, so an interrupted import is
resumed by running it again). The file must come from a locked datastore: its ClusterInformation
(datastoreReady: false) is written first, so this datastore stays locked until
${BINARY_NAME} datastore migrate unlock. Nodes must already exist as Kubernetes Nodes on the
Kubernetes datastore: their Calico fields are written onto them.`,
  run: runImport,
};

async function runImport(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const filename = ctx.args.string('filename');
  if (!filename) throw new UsageError('--filename is required: the file `migrate export` wrote');
  const loaded = await readManifests(ctx, filename, 'validate');
  if (loaded.problems.length > 0) throw new CommandFailedError(`the file is not a valid export; nothing was imported:\n${loaded.problems.join('\n')}`);
  const resources = loaded.resources.map((r) => r.resource);
  const info = resources.find((r) => r.kind === 'ClusterInformation' && r.metadata.name === 'default');
  if (info?.spec?.datastoreReady !== false) {
    throw new CommandFailedError(
      'the file was not exported from a locked datastore (its ClusterInformation is missing or has datastoreReady other than false); nothing was imported',
    );
  }
  const ds = await ctx.datastore();
  let written = 0;
  for (const res of [info, ...resources.filter((r) => r !== info)]) {
    try {
      await createOrUpdate(ds, res);
    } catch (err) {
      throw new CommandFailedError(
        `importing ${res.kind} ${res.metadata.namespace ? `${res.metadata.namespace}/` : ''}${res.metadata.name} failed after ${written} of ${resources.length} resources: ${err instanceof Error ? err.message : String(err)}. Fix the cause and run the import again: it resumes (resources already imported are updated)`,
        1,
        { cause: err },
      );
    }
    written++;
  }
  writeLine(ctx.stdout, `Imported ${written} resources. The datastore stays locked: run ${BINARY_NAME} datastore migrate unlock when the cluster is ready.`);
  return 0;
}

async function createOrUpdate(ds: Datastore, res: Resource): Promise<void> {
  const ref = { kind: res.kind, name: res.metadata.name, namespace: res.metadata.namespace };
  for (let attempt = 0; ; attempt++) {
    let current: Resource | undefined;
    try {
      current = await ds.get(ref);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    try {
      if (current) await ds.update({ ...res, metadata: { ...res.metadata, resourceVersion: current.metadata.resourceVersion } });
      else await ds.create(res);
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 5) throw err;
    }
  }
}

export const datastoreCommand: Command = {
  name: 'datastore',
  summary: 'Calico datastore management (migration between etcd and the Kubernetes datastore).',
  usage: `${BINARY_NAME} datastore <command> [<args>...]`,
  subcommands: [
    {
      name: 'migrate',
      summary: 'Migrate between datastores: lock, export, import, unlock.',
      usage: `${BINARY_NAME} datastore migrate <command> [<args>...]`,
      subcommands: [exportCommand, importCommand, lockCommand('lock'), lockCommand('unlock')],
      description: `On etcd: lock, then export > file. On the Kubernetes datastore: import -f file, then unlock.`,
    },
  ],
};
