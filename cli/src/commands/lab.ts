/**
 * `cattail lab up|down|status|probe`: a whole cluster in network namespaces on this machine —
 * etcd, two Typha replicas, and per node Felix, confd and BIRD, with pods wired by the CNI
 * plugin (see lab/README.md). `up` returns with the lab running; its processes are detached and
 * log under the state dir (`.cattail/lab/<name>/` by default, or CATTAIL_LAB_DIR).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, LabError, formatExternalTable, formatKubeStatus, formatProbeTable, formatStatus, type LabMode } from '@cattail/lab';
import { BINARY_NAME, type Command, type CommandContext } from '../command.js';
import type { FlagSpec } from '../argv.js';
import { CommandFailedError, UsageError } from '../errors.js';

const CATTAIL_BIN = fileURLToPath(new URL('../../../bin/cattail.js', import.meta.url));
/** The chart of this checkout (cli/dist/src/commands → helm/cattail). */
const REPO_CHART = fileURLToPath(new URL('../../../../helm/cattail', import.meta.url));

const NAME_FLAG: FlagSpec = {
  name: 'name',
  value: 'NAME',
  help: 'The lab (1-10 lowercase letters or digits; namespaces are ctlab-<NAME>-…). Default: demo, or $CATTAIL_LAB_NAME.',
};
const DIR_FLAG: FlagSpec = { name: 'dir', value: 'DIR', help: 'State dir (state.json, logs, etcd data). Default: .cattail/lab/<NAME>, or $CATTAIL_LAB_DIR.' };
const OUTPUT_FLAG: FlagSpec = { name: 'output', short: 'o', value: 'FORMAT', help: 'Output format: table (default) or json.' };

function openLab(ctx: CommandContext): Lab {
  const name = ctx.args.string('name') ?? ctx.env.CATTAIL_LAB_NAME ?? 'demo';
  const dir = resolve(ctx.cwd, ctx.args.string('dir') ?? ctx.env.CATTAIL_LAB_DIR ?? `.cattail/lab/${name}`);
  try {
    return new Lab({
      id: name,
      dir,
      cattailBin: CATTAIL_BIN,
      log: { info: (msg) => ctx.stderr.write(`${msg}\n`) },
    });
  } catch (err) {
    throw asCliError(err);
  }
}

function asCliError(err: unknown): unknown {
  if (err instanceof LabError) return new CommandFailedError(err.message, 1, { cause: err });
  return err;
}

function outputFormat(ctx: CommandContext): 'table' | 'json' {
  const o = ctx.args.string('output') ?? 'table';
  if (o !== 'table' && o !== 'json') throw new UsageError(`unknown output format "${o}" (table or json)`);
  return o;
}

function intFlag(ctx: CommandContext, name: string, def: number): number {
  const v = ctx.args.string(name);
  if (v === undefined) return def;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, got "${v}"`);
  return Number(v);
}

async function withLab<T>(ctx: CommandContext, fn: (lab: Lab) => Promise<T>, opts: { positionals?: boolean } = {}): Promise<T> {
  if (ctx.args.positionals.length && !opts.positionals) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const lab = openLab(ctx);
  try {
    return await fn(lab);
  } catch (err) {
    throw asCliError(err);
  } finally {
    await lab.close();
  }
}

const upCommand: Command = {
  name: 'up',
  summary: 'Build the lab (or bring an existing one up to date) and leave it running.',
  usage: `${BINARY_NAME} lab up [--engine=netns|kubernetes] [--nodes=<N>] [--pods-per-node=<M>] [--mode=bgp|vxlan] [--datastore=etcdv3|kubernetes] [--cni=bridge|none] [--name=<NAME>] [--dir=<DIR>]`,
  flags: [
    {
      name: 'engine',
      value: 'ENGINE',
      help: 'netns (default: the agents as processes, pods as namespaces) or kubernetes: a real cluster, the control plane and per node containerd + kubelet.',
    },
    { name: 'cni', value: 'CNI', help: "--engine kubernetes: bridge (default: Debian's bridge plugin, a /24 per node) or none (for a CNI a chart installs)." },
    { name: 'nodes', value: 'N', help: 'Nodes (default 3). On a running lab, more nodes are added; none are removed.' },
    { name: 'pods-per-node', value: 'M', help: 'Pods per node (default 2), alternately in namespaces frontend (app=web) and backend (app=db).' },
    { name: 'mode', value: 'MODE', help: 'bgp (default: BIRD node-to-node mesh, no encapsulation) or vxlan (IPPool vxlanMode Always, no BIRD).' },
    {
      name: 'datastore',
      value: 'TYPE',
      help: "etcdv3 (default) or kubernetes: a real kube-apiserver with Calico's CRDs; namespaces, nodes and pods are Kubernetes objects.",
    },
    NAME_FLAG,
    DIR_FLAG,
  ],
  description: `Needs root, iproute2, nftables, bird2, etcd-server and iputils-ping. Idempotent: running
it again restarts whatever died and adds what is missing. Progress goes to stderr; the
summary (etcd endpoint, how to look around) to stdout.`,
  run: (ctx) =>
    withLab(ctx, async (lab) => {
      const engine = ctx.args.string('engine') ?? lab.state?.engine ?? 'netns';
      if (engine !== 'netns' && engine !== 'kubernetes') throw new UsageError(`--engine must be netns or kubernetes, got "${engine}"`);
      if (engine === 'kubernetes') return upKubernetesLab(ctx, lab);
      const mode = (ctx.args.string('mode') ?? lab.state?.mode ?? 'bgp') as LabMode;
      if (mode !== 'bgp' && mode !== 'vxlan') throw new UsageError(`--mode must be bgp or vxlan, got "${mode}"`);
      const datastore = ctx.args.string('datastore') ?? lab.state?.datastore ?? 'etcdv3';
      if (datastore !== 'etcdv3' && datastore !== 'kubernetes') throw new UsageError(`--datastore must be etcdv3 or kubernetes, got "${datastore}"`);
      const state = await lab.up({
        nodes: intFlag(ctx, 'nodes', lab.state?.nodes.length || 3),
        podsPerNode: intFlag(ctx, 'pods-per-node', lab.state?.podsPerNode ?? 2),
        mode,
        datastore,
      });
      const kubeconfig = lab.kubeconfig();
      const etcd = `http://127.0.0.1:${state.etcd.clientPort}`;
      const nameArg = lab.names.id === 'demo' ? '' : ` --name ${lab.names.id}`;
      ctx.stdout.write(
        [
          `lab ${lab.names.id} is up: ${state.nodes.length} nodes, ${state.pods.length} pods, ${state.mode} mode, ${datastore}`,
          `  etcd      ${etcd}`,
          ...(kubeconfig ? [`  kubeconfig ${kubeconfig}`] : []),
          `  typha     ${state.typhas.map((t) => `127.0.0.1:${t.port}`).join(', ')}`,
          `  state     ${lab.dir} (logs in ${lab.dir}/logs)`,
          '',
          'Look around:',
          `  ${BINARY_NAME} lab status${nameArg}            # sessions, routes, endpoints, Typha per node`,
          `  ${BINARY_NAME} lab probe${nameArg}             # pod-to-pod reachability with real pings`,
          kubeconfig
            ? `  ${BINARY_NAME} lab kubectl${nameArg} -- get pods -A -o wide   # the Kubernetes objects`
            : `  ETCD_ENDPOINTS=${etcd} ${BINARY_NAME} get workloadendpoints -A`,
          `  ip netns exec ${state.nodes[0]?.netns ?? ''} ip route         # a node's kernel routes`,
          ...(state.pods[0]
            ? [
                `  ip netns exec ${state.pods[0].netns} ping -c1 ${state.pods[state.pods.length - 1].ip}    # from pod ${state.pods[0].namespace}/${state.pods[0].name}`,
              ]
            : []),
          `  ${BINARY_NAME} lab down${nameArg}              # remove everything`,
          '',
        ].join('\n'),
      );
      return 0;
    }),
};

async function upKubernetesLab(ctx: CommandContext, lab: Lab): Promise<number> {
  const mode = (ctx.args.string('mode') ?? lab.state?.mode ?? 'bgp') as LabMode;
  if (mode !== 'bgp' && mode !== 'vxlan') throw new UsageError(`--mode must be bgp or vxlan, got "${mode}"`);
  const cni = ctx.args.string('cni') ?? lab.state?.cluster?.cni ?? 'bridge';
  if (cni !== 'bridge' && cni !== 'none') throw new UsageError(`--cni must be bridge or none, got "${cni}"`);
  if (ctx.args.string('datastore') !== undefined && ctx.args.string('datastore') !== 'kubernetes') {
    throw new UsageError("--engine kubernetes keeps Calico's data in the API server: --datastore must be kubernetes or left out");
  }
  const state = await lab.up({ engine: 'kubernetes', nodes: intFlag(ctx, 'nodes', lab.state?.nodes.length || 2), podsPerNode: 0, mode, cni });
  const nameArg = lab.names.id === 'demo' ? '' : ` --name ${lab.names.id}`;
  ctx.stdout.write(
    [
      `lab ${lab.names.id} is up: a Kubernetes cluster of ${state.nodes.length} nodes (kubelet + containerd each), CNI ${cni}`,
      `  kubeconfig ${lab.kubeconfig() ?? ''}`,
      `  state      ${lab.dir} (logs in ${lab.dir}/logs)`,
      '',
      'Look around:',
      `  ${BINARY_NAME} lab kubectl${nameArg} -- get nodes -o wide`,
      `  ${BINARY_NAME} lab kubectl${nameArg} -- get pods -A -o wide`,
      `  ${BINARY_NAME} lab status${nameArg}`,
      `  ctr --address ${lab.dir}/nodes/node-1/containerd/containerd.sock -n k8s.io containers ls`,
      `  ${BINARY_NAME} lab down${nameArg}              # remove everything`,
      '',
    ].join('\n'),
  );
  return 0;
}

const downCommand: Command = {
  name: 'down',
  summary: 'Stop every process and delete every namespace of the lab (also after a crash).',
  usage: `${BINARY_NAME} lab down [--name=<NAME>] [--dir=<DIR>]`,
  flags: [NAME_FLAG, DIR_FLAG],
  run: (ctx) =>
    withLab(ctx, async (lab) => {
      const r = await lab.down();
      ctx.stdout.write(`lab ${lab.names.id} is down: ${r.processes} processes stopped, ${r.namespaces.length} namespaces deleted\n`);
      return 0;
    }),
};

const statusCommand: Command = {
  name: 'status',
  summary: 'Per node: BGP sessions, routes, endpoints, Typha connection and lag.',
  usage: `${BINARY_NAME} lab status [-o json] [--name=<NAME>] [--dir=<DIR>]`,
  flags: [OUTPUT_FLAG, NAME_FLAG, DIR_FLAG],
  description: `-o json prints {"nodes": [{"name", "bgpSessions": [{"peer", "state"}], "routes": [...],
"endpoints": [...], "typha": {...}, "typhaClients": [...], ...}], "typhas": [...], ...}.`,
  run: (ctx) =>
    withLab(ctx, async (lab) => {
      const format = outputFormat(ctx);
      if (lab.state?.engine === 'kubernetes') {
        const k = await lab.kubeStatus();
        ctx.stdout.write(format === 'json' ? `${JSON.stringify(k, null, 2)}\n` : formatKubeStatus(k));
        return 0;
      }
      const s = await lab.status();
      ctx.stdout.write(format === 'json' ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
      return 0;
    }),
};

const probeCommand: Command = {
  name: 'probe',
  summary: 'The pod-to-pod reachability matrix, with one real ping per pair (or, with --external, every pod to a host outside the cluster).',
  usage: `${BINARY_NAME} lab probe [--external] [-o json] [--concurrency=<N>] [--name=<NAME>] [--dir=<DIR>]`,
  flags: [
    OUTPUT_FLAG,
    { name: 'external', help: 'Ping the external host (on the fabric, outside every pool) from every pod and show the source address it saw.' },
    { name: 'concurrency', value: 'N', help: 'Pings in flight at once (default 8).' },
    NAME_FLAG,
    DIR_FLAG,
  ],
  description: `-o json prints {"results": [{"from": "ns/pod", "to": "ns/pod", "reachable": true|false, "fromIp", "toIp"}, ...]};
with --external, {"external": {"address": IP, "results": [{"from": "ns/pod", "reachable": true|false, "sourceSeen": IP|null}, ...]}}
(the lab's pool has natOutgoing, so each pod's echo arrives from its node's fabric address).`,
  run: (ctx) =>
    withLab(ctx, async (lab) => {
      const format = outputFormat(ctx);
      const concurrency = intFlag(ctx, 'concurrency', 8);
      if (concurrency < 1) throw new UsageError('--concurrency must be at least 1');
      if (ctx.args.bool('external')) {
        const external = await lab.probeExternal({ concurrency });
        ctx.stdout.write(format === 'json' ? `${JSON.stringify({ external }, null, 2)}\n` : formatExternalTable(external));
        return 0;
      }
      const results = await lab.probe({ concurrency });
      ctx.stdout.write(format === 'json' ? `${JSON.stringify({ results }, null, 2)}\n` : formatProbeTable(results));
      return 0;
    }),
};

const kubectlCommand: Command = {
  name: 'kubectl',
  summary: "Run kubectl against the lab's API server (a --datastore kubernetes lab).",
  usage: `${BINARY_NAME} lab kubectl [--name=<NAME>] [--dir=<DIR>] -- <kubectl args>...`,
  flags: [NAME_FLAG, DIR_FLAG],
  description: `Everything after -- goes to kubectl, with the lab's admin kubeconfig, e.g.
${BINARY_NAME} lab kubectl -- get pods -A -o wide. kubectl's output and exit status are passed on.`,
  run: (ctx) =>
    withLab(
      ctx,
      async (lab) => {
        if (ctx.args.positionals.length === 0) throw new UsageError('give kubectl its arguments after --, e.g. -- get pods -A');
        ctx.stdout.write(await lab.kubectl(ctx.args.positionals));
        return 0;
      },
      { positionals: true },
    ),
};

const importImageCommand: Command = {
  name: 'import-image',
  summary: "Import an OCI image archive into every node's containerd (an --engine kubernetes lab).",
  usage: `${BINARY_NAME} lab import-image [--name=<NAME>] [--dir=<DIR>] <archive.tar>`,
  flags: [NAME_FLAG, DIR_FLAG],
  description: `Runs ctr images import on each node; nodes that start over or join later get it too.
Pods use it with imagePullPolicy: Never (or IfNotPresent): nothing is pulled from a registry.`,
  run: (ctx) =>
    withLab(
      ctx,
      async (lab) => {
        if (ctx.args.positionals.length !== 1) throw new UsageError('give one image archive, e.g. lab import-image cattail.tar');
        const refs = await lab.importImage(resolve(ctx.cwd, ctx.args.positionals[0]));
        ctx.stdout.write(`imported ${refs.join(', ')} into ${lab.state?.nodes.length ?? 0} nodes\n`);
        return 0;
      },
      { positionals: true },
    ),
};

const installCommand: Command = {
  name: 'install',
  summary: "Install Cattail into an --engine kubernetes lab with helm: the image into every node, then the chart with the lab's values.",
  usage: `${BINARY_NAME} lab install [--image=<archive.tar>] [--chart=<DIR>] [--release=<NAME>] [--namespace=<NS>] [--values=<FILE>[,<FILE>...]] [--set=<k=v>[,<k=v>...]] [--name=<NAME>] [--dir=<DIR>]`,
  flags: [
    {
      name: 'image',
      value: 'ARCHIVE',
      help: 'The image archive to import first (npm run image writes .tools/images/cattail-<version>.oci.tar); default: the image of the previous install.',
    },
    { name: 'chart', value: 'DIR', help: "The chart (default: this checkout's helm/cattail)." },
    { name: 'release', value: 'NAME', help: 'Helm release name (default cattail).' },
    { name: 'namespace', value: 'NS', help: 'Namespace of the release (default cattail-system).' },
    { name: 'values', value: 'FILES', help: "More helm values files, comma separated, after the lab's own." },
    { name: 'set', value: 'PAIRS', help: 'helm --set pairs, comma separated, last.' },
    { name: 'timeout', value: 'SECS', help: 'How long helm waits for every workload to roll out (default 600).' },
    NAME_FLAG,
    DIR_FLAG,
  ],
  description: `Runs the real helm upgrade --install with the lab's kubeconfig and waits (helm --wait) until
Typha, the node DaemonSet (Felix, confd, BIRD) and kube-controllers are ready and every node has
cattail-cni. The lab's values (written to <dir>/cattail-values.yaml) name the imported image
(an unqualified name is tagged under cattail.local/, as containerd's CRI needs a fully qualified
one), the lab's pool (vxlanMode from the lab's --mode), the node address from the Node's
InternalIP, and one Typha per node up to two. Running it again upgrades the release.`,
  run: (ctx) =>
    withLab(ctx, async (lab) => {
      const list = (name: string) =>
        ctx.args
          .string(name)
          ?.split(',')
          .map((x) => x.trim())
          .filter(Boolean);
      const image = ctx.args.string('image');
      const r = await lab.install({
        chart: resolve(ctx.cwd, ctx.args.string('chart') ?? REPO_CHART),
        ...(image !== undefined ? { image: resolve(ctx.cwd, image) } : {}),
        ...(ctx.args.string('release') !== undefined ? { release: ctx.args.string('release') } : {}),
        ...(ctx.args.string('namespace') !== undefined ? { namespace: ctx.args.string('namespace') } : {}),
        values: (list('values') ?? []).map((f) => resolve(ctx.cwd, f)),
        ...(ctx.args.string('set') !== undefined ? { set: [ctx.args.string('set')!] } : {}),
        timeoutMs: intFlag(ctx, 'timeout', 600) * 1000,
      });
      const nameArg = lab.names.id === 'demo' ? '' : ` --name ${lab.names.id}`;
      ctx.stdout.write(
        [
          `cattail is installed in lab ${lab.names.id}: release ${r.release} in namespace ${r.namespace}, image ${r.image}`,
          `  values ${r.valuesFile}`,
          '',
          'Look around:',
          `  ${BINARY_NAME} lab kubectl${nameArg} -- get pods -n ${r.namespace} -o wide`,
          `  ${BINARY_NAME} lab probe${nameArg}`,
          '',
        ].join('\n'),
      );
      return 0;
    }),
};

export const labCommand: Command = {
  name: 'lab',
  summary: 'A whole cluster in network namespaces: up, down, status, probe, kubectl, import-image, install.',
  usage: `${BINARY_NAME} lab <command> [<args>...]`,
  subcommands: [upCommand, downCommand, statusCommand, probeCommand, kubectlCommand, importImageCommand, installCommand],
};
