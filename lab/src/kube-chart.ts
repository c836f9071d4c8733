/**
 * `cattail lab install`: Cattail installed into a `--engine kubernetes` lab the way an operator
 * installs it into any cluster — the image imported into every node's containerd (nothing is
 * pulled), then the real `helm upgrade --install` of the chart, then a wait until every
 * Deployment and DaemonSet of the release has rolled out whole (`kubectl rollout status`) (so the kubelets have started Felix, confd, BIRD,
 * Typha and kube-controllers, and the nodes turned Ready once cattail-cni's conflist appeared).
 *
 *   image archive ──ctr images import──▶ containerd of node-1 … node-N (tagged fully qualified)
 *   <dir>/cattail-values.yaml (the lab's values) + --values files + --set pairs
 *        └──helm upgrade --install <release> <chart> -n <namespace> --kubeconfig <lab's>
 *   ConfigMap kubernetes-services-endpoint in <namespace>: the API server's fabric address, read
 *   by every container of the chart (there is no kube-proxy to make the `kubernetes` Service work)
 *
 * The lab's values only say what is particular to the lab (its image name, its pool, a Typha
 * per node up to two, the node address from the Node's InternalIP); everything else is the
 * chart's default, and the user's --values and --set come last.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findKubeBinary } from '@cattail/datastore/testing';
import { save, type LabContext } from './context.js';
import { LabCommandError, LabUsageError } from './errors.js';
import { run } from './exec.js';
import { importImage } from './kube-cluster.js';
import { kubeconfigPath, labKubectl } from './kube.js';
import { ensureServicesEndpoint } from './kube-control-plane.js';
import { ctr } from './kube-node.js';
import { engineOf } from './state.js';

export const DEFAULT_RELEASE = 'cattail';
export const DEFAULT_NAMESPACE = 'cattail-system';
/** The domain an unqualified image name gets in the lab: containerd's CRI looks images up by fully qualified name. */
export const LAB_IMAGE_DOMAIN = 'cattail.local';

export interface InstallOptions {
  /** The chart directory (helm/cattail). */
  chart: string;
  /** An image archive (`npm run image`) to import first. */
  image?: string;
  /** The image reference to run, already on every node, when no archive is given (default: the previous install's). */
  imageRef?: string;
  release?: string;
  namespace?: string;
  /** helm --values files, after the lab's. */
  values?: string[];
  /** helm --set pairs, last. */
  set?: string[];
  /** helm --timeout and the roll-out wait (default 10 min). */
  timeoutMs?: number;
}

export interface InstallReport {
  release: string;
  namespace: string;
  image: string;
  valuesFile: string;
  /** helm's own output. */
  helm: string;
}

/**
 * A reference containerd's CRI resolves as it is: the first path component is a registry host
 * (has a dot or a port, or is localhost). `cattail/cattail:0.1.0` is not (the CRI would
 * qualify it with its default registry and miss the imported image).
 */
export function isFullyQualified(ref: string): boolean {
  const slash = ref.indexOf('/');
  if (slash < 0) return false;
  const first = ref.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/** `repo:tag` → `{ repository, tag }` (a digest reference is not what an import names). */
export function splitRef(ref: string): { repository: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  if (colon <= ref.lastIndexOf('/')) throw new LabUsageError(`image reference ${ref} has no tag`);
  return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/** The lab's own values: only what differs from the chart's defaults in a lab. */
export function labValues(ctx: LabContext, image: { repository: string; tag: string }): Record<string, unknown> {
  const s = ctx.state;
  const vxlan = s.mode === 'vxlan';
  return {
    image: { repository: image.repository, tag: image.tag, pullPolicy: 'Never' },
    typha: {
      // One per node up to two: a rollout always has a second replica to hand clients to.
      replicas: Math.min(2, Math.max(1, s.nodes.length)),
      expectedNodes: s.nodes.length,
      // A lab's few clients are handed off in seconds; the kubelet's grace period is the same.
      shutdownTimeoutSecs: 30,
    },
    node: {
      // The kubelet registered each Node with its fabric address (--node-ip).
      ipAutodetectionMethod: 'kubernetes-internal-ip',
      networkingBackend: vxlan ? 'vxlan' : 'bird',
    },
    ipPools: { ipv4: { cidr: s.poolCidr, vxlanMode: vxlan ? 'Always' : 'Never', natOutgoing: true } },
  };
}

export async function installCattail(ctx: LabContext, o: InstallOptions): Promise<InstallReport> {
  if (engineOf(ctx.state) !== 'kubernetes')
    throw new LabUsageError(`lab ${ctx.names.id} has no kubelets: \`lab install\` is for \`lab up --engine kubernetes\``);
  if (ctx.state.nodes.length === 0) throw new LabUsageError('the lab has no nodes: `lab up --engine kubernetes` first');
  const release = o.release ?? DEFAULT_RELEASE;
  const namespace = o.namespace ?? DEFAULT_NAMESPACE;
  // The lab has no registry: the image is one imported now, or named, or the previous install's.
  let ref = o.imageRef ?? ctx.state.cluster?.release?.image;
  if (o.image !== undefined) {
    const refs = await importImage(ctx, resolve(o.image));
    if (refs.length !== 1) throw new LabUsageError(`${o.image} holds ${refs.length} images (${refs.join(', ')}): give an archive of the one cattail image`);
    ref = await qualify(ctx, refs[0]);
  }
  if (ref === undefined) {
    throw new LabUsageError('the lab pulls no images: give the image archive (`npm run image` writes .tools/images/cattail-<version>.oci.tar) with --image');
  }
  const image = splitRef(ref);

  await labKubectl(ctx.dir, ['create', 'namespace', namespace, '--dry-run=client', '-o', 'yaml']).then((y) => labKubectl(ctx.dir, ['apply', '-f', '-'], y));
  await ensureServicesEndpoint(ctx, namespace);

  // JSON is YAML: helm reads it as a values file.
  const valuesFile = join(ctx.dir, 'cattail-values.yaml');
  writeFileSync(valuesFile, `${JSON.stringify(labValues(ctx, image), null, 2)}\n`);
  const timeoutMs = o.timeoutMs ?? 600_000;
  const args = [
    'upgrade',
    '--install',
    release,
    resolve(o.chart),
    '--namespace',
    namespace,
    '--kubeconfig',
    kubeconfigPath(ctx.dir),
    '--values',
    valuesFile,
    ...(o.values ?? []).flatMap((f) => ['--values', resolve(f)]),
    ...(o.set ?? []).flatMap((p) => ['--set', p]),
    '--wait',
    '--timeout',
    `${Math.ceil(timeoutMs / 1000)}s`,
  ];
  let out: string;
  try {
    out = await run(findKubeBinary('helm'), args, { timeoutMs: timeoutMs + 30_000 });
  } catch (err) {
    const detail = await describeNotReady(ctx, namespace);
    throw new LabCommandError(`helm upgrade --install ${release} failed: ${(err as Error).message}\n${detail}`, detail, { cause: err });
  }
  // helm --wait counts a DaemonSet ready with maxUnavailable pods still starting: wait for
  // every workload of the release to have rolled out whole.
  const workloads = (await labKubectl(ctx.dir, ['get', 'daemonsets,deployments', '-n', namespace, '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name']))
    .split('\n')
    .filter(Boolean);
  for (const w of workloads) {
    await run(
      findKubeBinary('kubectl'),
      ['--kubeconfig', kubeconfigPath(ctx.dir), 'rollout', 'status', w, '-n', namespace, `--timeout=${Math.ceil(timeoutMs / 1000)}s`],
      {
        timeoutMs: timeoutMs + 30_000,
      },
    );
  }
  ctx.state.cluster ??= { cni: 'none' };
  ctx.state.cluster.release = { name: release, namespace, image: ref };
  save(ctx);
  ctx.log.info(`cattail installed: release ${release} in namespace ${namespace}`);
  return { release, namespace, image: ref, valuesFile, helm: out };
}

/** An unqualified imported ref gets the lab's domain (`ctr images tag` on every node). */
async function qualify(ctx: LabContext, ref: string): Promise<string> {
  if (isFullyQualified(ref)) return ref;
  const full = `${LAB_IMAGE_DOMAIN}/${ref}`;
  for (const node of ctx.state.nodes) await ctr(ctx, node, ['images', 'tag', '--force', ref, full]);
  ctx.state.cluster ??= { cni: 'none' };
  ctx.state.cluster.tags = { ...ctx.state.cluster.tags, [full]: ref };
  save(ctx);
  return full;
}

/** On a failed install: the chart's pods that are not ready, and the recent warning events. */
async function describeNotReady(ctx: LabContext, namespace: string): Promise<string> {
  const pods = await labKubectl(ctx.dir, ['get', 'pods', '-n', namespace, '-o', 'wide']).catch((e: Error) => e.message);
  const events = await labKubectl(ctx.dir, ['get', 'events', '-n', namespace, '--field-selector', 'type=Warning', '--sort-by=.lastTimestamp']).catch(
    (e: Error) => e.message,
  );
  return `pods in ${namespace}:\n${pods}\nwarnings:\n${events.split('\n').slice(-25).join('\n')}`;
}
