/**
 * A real Kubernetes node of a `--engine kubernetes` lab: per node, its network namespace on the
 * fabric (fabric.ts), and in it a mount namespace of its own holding its containerd and its
 * kubelet, as a kind node container would, without a container image:
 *
 *   holder (`node/<name>`):  nsenter --net=<node netns> unshare --mount --propagation private sh node-init.sh
 *       the node's mount namespace, built once, then `sleep infinity` keeps it (and is the pid to enter):
 *         /run                 a tmpfs of its own (containerd's state, shim sockets, pod netns files)
 *         /sys                 sysfs of the node's network namespace, the cgroup hierarchies kept
 *         /etc /opt /var       overlays of the machine's, upper dirs in <node>/fs: /etc/cni/net.d,
 *                              /opt/cni/bin, /var/lib/calico … are the node's own, nothing is
 *                              written to the machine's
 *         /var/lib/kubelet /var/lib/containerd /var/log/pods /var/log/containers
 *                              bind mounts of <node>/var/… (a plain filesystem, which cAdvisor
 *                              can measure and containerd's overlayfs snapshotter can use)
 *         /proc/sys/{vm/overcommit_memory,kernel/panic,kernel/panic_on_oops}
 *                              files holding the values the kubelet wants (1, 10, 1): it finds
 *                              them set and leaves the machine-wide sysctls alone
 *         /                    then made rshared, as kind's entrypoint does, for mount propagation
 *       and its cgroup /ctlab-<id>/<name>/system (cgroups.ts), which containerd and the kubelet inherit
 *   containerd (`containerd/<name>`):  nsenter -t <holder> -m -n containerd --config <node>/containerd/config.toml
 *       socket <node>/containerd/containerd.sock (a file the root namespace reaches: `ctr --address`),
 *       cgroupfs (runc without systemd), CNI in the node's /opt/cni/bin and /etc/cni/net.d, the
 *       sandbox image `cattail.local/pause:1`, imported like every image (kube-images.ts)
 *   kubelet (`kubelet/<name>`):  nsenter -t <holder> -m -n kubelet --config … --kubeconfig …
 *       --cgroup-root /ctlab-<id>/<name>, cgroupfs, --node-ip <fabric address>, swap allowed,
 *       a client certificate CN=system:node:<name> from the lab's CA; it registers the Node
 *
 * A hostNetwork pod gets no network namespace of its own from containerd, so it runs in the
 * node's: the one the holder, containerd and its shims were started in.
 */
import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logsDir, save, type LabContext } from './context.js';
import { cgroupProcsFiles, ensureCgroup, removeCgroupTree } from './cgroups.js';
import { LabError } from './errors.js';
import { findOnPath, run, until } from './exec.js';
import { clientCert, kubeconfig, type ClusterPki } from './kube-pki.js';
import { isAlive, isOurs, logTail, spawnDetached, stopProcess } from './processes.js';
import type { NodeRecord, ProcessRecord } from './state.js';

/** The image every pod's sandbox runs (kube-images.ts imports it into each containerd). */
export const SANDBOX_IMAGE = 'cattail.local/pause:1';
/** Where the Debian CNI plugins are (containernetworking-plugins): `loopback` for every pod, `bridge` and `host-local` for `--cni bridge`. */
export const SYSTEM_CNI_DIR = '/usr/lib/cni';

export function nodeRoot(ctx: LabContext, node: Pick<NodeRecord, 'name'>): string {
  return join(ctx.dir, 'nodes', node.name);
}

export function containerdSocket(ctx: LabContext, node: Pick<NodeRecord, 'name'>): string {
  return join(nodeRoot(ctx, node), 'containerd', 'containerd.sock');
}

/** The node's cgroup: the kubelet's --cgroup-root. */
export function nodeCgroup(ctx: LabContext, node: Pick<NodeRecord, 'name'>): string {
  return `/${ctx.names.prefix}/${node.name}`;
}

/** A path as the node sees it (through the holder's root), for writing the node's own files from here. */
export function inNode(holder: ProcessRecord, path: string): string {
  return join(`/proc/${holder.pid}/root`, path);
}

const NODE_INIT = `#!/bin/sh
# The node's mount namespace (lab/src/kube-node.ts): run by
#   nsenter --net=<node netns> unshare --mount --propagation private sh node-init.sh <node dir> <cgroup.procs files>
set -eu
node=$1
shift
for procs in "$@"; do echo $$ > "$procs"; done
umount -l /run/netns 2>/dev/null || true
mount -t tmpfs -o mode=755 tmpfs /run
mkdir /run/.cgroup
mount --rbind /sys/fs/cgroup /run/.cgroup
umount -l /sys
mount -t sysfs sysfs /sys
mount --move /run/.cgroup /sys/fs/cgroup
rmdir /run/.cgroup
for d in etc opt var; do
  mkdir -p "$node/fs/$d" "$node/fs/.work/$d"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$node/fs/$d,workdir=$node/fs/.work/$d" "/$d"
done
for d in lib/kubelet lib/containerd log/pods log/containers; do
  mkdir -p "$node/var/$d" "/var/$d"
  mount --bind "$node/var/$d" "/var/$d"
done
mkdir -p "$node/sysctl"
for kv in vm/overcommit_memory=1 kernel/panic=10 kernel/panic_on_oops=1; do
  key=\${kv%=*}
  file="$node/sysctl/$(echo "$key" | tr / .)"
  echo "\${kv#*=}" > "$file"
  mount --bind "$file" "/proc/sys/$key"
done
mkdir -p /opt/cni/bin /etc/cni/net.d
mount --make-rshared /
echo ready
exec sleep infinity
`;

function running(ctx: LabContext, role: string): ProcessRecord | undefined {
  const rec = ctx.state.processes[role];
  return rec && isOurs(ctx.names.prefix, rec) ? rec : undefined;
}

function tool(name: string, pkg: string): string {
  const p = findOnPath(name);
  if (!p) throw new LabError('LAB_TOOL_MISSING', `${name} not found: apt-get install ${pkg} (or bash scripts/setup.sh)`);
  return p;
}

function startFailed(what: string, log: string): LabError {
  return new LabError('LAB_START_FAILED', `${what} exited at start; log ${log}:\n${logTail(log, 2500)}`);
}

async function stopRole(ctx: LabContext, role: string): Promise<void> {
  const rec = ctx.state.processes[role];
  if (rec) await stopProcess(ctx.names.prefix, rec, { graceMs: 5_000 });
  delete ctx.state.processes[role];
}

/**
 * The node's holder (its mount namespace). When the holder is gone but containerd or the kubelet
 * still run (in a namespace nothing can enter any more), everything in the node's cgroup is
 * ended first: the node starts over whole, its files in <node> kept.
 */
export async function ensureNodeHolder(ctx: LabContext, node: NodeRecord): Promise<ProcessRecord> {
  const role = `node/${node.name}`;
  const have = running(ctx, role);
  if (have) return have;
  // Whatever of the node still runs (kubelet, containerd, shims, containers) is in its cgroup.
  await removeCgroupTree(nodeCgroup(ctx, node));
  delete ctx.state.processes[`kubelet/${node.name}`];
  delete ctx.state.processes[`containerd/${node.name}`];
  const root = nodeRoot(ctx, node);
  mkdirSync(root, { recursive: true });
  const script = join(root, 'node-init.sh');
  writeFileSync(script, NODE_INIT);
  const cgroup = `${nodeCgroup(ctx, node)}/system`;
  ensureCgroup(cgroup);
  const log = join(logsDir(ctx), `node-${node.name}.log`);
  writeFileSync(log, '');
  const proc = spawnDetached(ctx.names.prefix, {
    role,
    argv: [
      tool('nsenter', 'util-linux'),
      `--net=/run/netns/${node.netns}`,
      '--',
      tool('unshare', 'util-linux'),
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      script,
      root,
      ...cgroupProcsFiles(cgroup),
    ],
    env: process.env,
    log,
  });
  ctx.state.processes[role] = proc;
  save(ctx);
  const v = await until(
    () => (!isAlive(proc) ? 'exited' : /^ready$/m.test(readFileSync(log, 'utf8')) ? 'ready' : undefined),
    `the mount namespace of ${node.name}`,
    15_000,
    () => logTail(log, 800),
  );
  if (v === 'exited') throw startFailed(`the holder of ${node.name}`, log);
  ctx.log.info(`${node.name}: mount namespace ready (holder pid ${proc.pid}, network namespace ${node.netns})`);
  return proc;
}

/**
 * argv that runs `argv` inside the node (the holder's network and mount namespaces) and in the
 * node's cgroup: the shell joins the cgroup and execs nsenter, which execs the program, so the
 * pid spawned is the program's. (nsenter alone would leave it in the cgroup of whoever ran
 * `lab up`, and `down` would miss it and the shims it starts.)
 */
function inNodeArgv(ctx: LabContext, node: NodeRecord, holder: ProcessRecord, argv: readonly string[]): string[] {
  const joinCgroup = 'while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift; exec "$@"';
  const procs = cgroupProcsFiles(`${nodeCgroup(ctx, node)}/system`);
  return ['/bin/sh', '-c', joinCgroup, 'sh', ...procs, '--', tool('nsenter', 'util-linux'), '-t', String(holder.pid), '-m', '-n', '--', ...argv];
}

/** Runs a program inside the node (its network and mount namespaces), for the lab's own setup steps. */
export function nodeExec(holder: ProcessRecord, argv: readonly string[], timeoutMs = 30_000): Promise<string> {
  return run('nsenter', ['-t', String(holder.pid), '-m', '-n', '--', ...argv], { timeoutMs });
}

function containerdConfig(ctx: LabContext, node: NodeRecord): string {
  const sock = containerdSocket(ctx, node);
  return `# The containerd of lab node ${node.name} (lab/src/kube-node.ts): its own root, state and
# socket, cgroupfs, the node's CNI directories, and a sandbox image that is imported, never pulled.
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${sock}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${SANDBOX_IMAGE}"
  # Root here lacks CAP_SYS_RESOURCE, so no process may lower its oom_score_adj (the sandbox's
  # -998, a Guaranteed pod's -997): keep every container at or above containerd's own (0).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
`;
}

/** `ctr` against the node's containerd, in the CRI's namespace. */
export function ctr(ctx: LabContext, node: NodeRecord, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return run(tool('ctr', 'containerd'), ['--address', containerdSocket(ctx, node), '--namespace', 'k8s.io', ...args], { timeoutMs });
}

export async function ensureContainerd(ctx: LabContext, node: NodeRecord, holder: ProcessRecord): Promise<void> {
  const role = `containerd/${node.name}`;
  const dir = join(nodeRoot(ctx, node), 'containerd');
  const config = join(dir, 'config.toml');
  const text = containerdConfig(ctx, node);
  if (running(ctx, role)) {
    // Running with the configuration this version of the lab writes: nothing to do. Another one
    // (a lab made by an older version): restart it with this one; its containers keep running.
    if (existsSync(config) && readFileSync(config, 'utf8') === text) return;
    await stopRole(ctx, role);
  }
  mkdirSync(dir, { recursive: true });
  const sock = containerdSocket(ctx, node);
  if (sock.length > 100) throw new LabError('LAB_USAGE', `containerd's socket path ${sock} is too long for a unix socket: use a shorter --dir`);
  writeFileSync(config, text);
  const log = join(logsDir(ctx), `containerd-${node.name}.log`);
  const proc = spawnDetached(ctx.names.prefix, {
    role,
    argv: inNodeArgv(ctx, node, holder, [tool('containerd', 'containerd'), '--config', config]),
    env: process.env,
    log,
  });
  ctx.state.processes[role] = proc;
  save(ctx);
  const v = await until(
    async () =>
      !isAlive(proc)
        ? 'exited'
        : (await ctr(ctx, node, ['version'], 5_000).then(
              () => true,
              () => false,
            ))
          ? 'up'
          : undefined,
    `containerd of ${node.name} to answer on ${sock}`,
    30_000,
    () => logTail(log, 800),
  );
  if (v === 'exited') throw startFailed(`containerd of ${node.name}`, log);
  ctx.log.info(`${node.name}: containerd running (pid ${proc.pid})`);
}

/** What CNI the lab installs on a node: `bridge` (Debian's bridge + host-local, one /24 per node), or `none` (the chart's cattail-cni will). */
export type LabCni = 'bridge' | 'none';

/**
 * The node's CNI directories: `loopback` always (containerd sets up every pod's lo with it, as
 * every node image ships it); with `bridge`, Debian's bridge and host-local plugins and a
 * conflist giving the node's pods 10.244.<i>.0/24 behind bridge `cni0` (masqueraded). A
 * Node becomes Ready once a CNI configuration exists.
 */
export function ensureNodeCni(node: NodeRecord, holder: ProcessRecord, cni: LabCni): void {
  const bin = inNode(holder, '/opt/cni/bin');
  const plugins = cni === 'bridge' ? ['loopback', 'bridge', 'host-local'] : ['loopback'];
  for (const p of plugins) {
    const src = join(SYSTEM_CNI_DIR, p);
    if (!existsSync(src)) throw new LabError('LAB_TOOL_MISSING', `${src} not found: apt-get install containernetworking-plugins (or bash scripts/setup.sh)`);
    const dst = join(bin, p);
    if (!existsSync(dst)) {
      copyFileSync(src, `${dst}.tmp`);
      chmodSync(`${dst}.tmp`, 0o755);
      // A rename, so containerd never runs a half-copied plugin.
      renameSync(`${dst}.tmp`, dst);
    }
  }
  if (cni !== 'bridge') return;
  const conf = {
    cniVersion: '0.4.0',
    name: 'lab-bridge',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: `10.244.${node.index}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
    ],
  };
  writeFileSync(join(inNode(holder, '/etc/cni/net.d'), '10-lab-bridge.conflist'), `${JSON.stringify(conf, null, 2)}\n`);
}

export async function ensureKubelet(ctx: LabContext, node: NodeRecord, holder: ProcessRecord, pki: ClusterPki, apiserverUrl: string): Promise<void> {
  const role = `kubelet/${node.name}`;
  if (running(ctx, role)) return;
  const dir = join(nodeRoot(ctx, node), 'kubelet');
  mkdirSync(dir, { recursive: true });
  const cert = await clientCert(pki.dir, `node-${node.name}`, `/O=system:nodes/CN=system:node:${node.name}`);
  const kubeconfigFile = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigFile, kubeconfig(apiserverUrl, pki.tls.caFile, `system:node:${node.name}`, cert));
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'cgroupfs',
    cgroupRoot: nodeCgroup(ctx, node),
    cgroupsPerQOS: true,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${containerdSocket(ctx, node)}`,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: pki.tls.caFile } },
    authorization: { mode: 'Webhook' },
    clusterDomain: 'cluster.local',
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    // Images come from `ctr images import`, never from a registry: nothing may collect them.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // The machine's disk is shared: evict only when it is really full.
    evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%' },
    serializeImagePulls: false,
    resolvConf: '/etc/resolv.conf',
    rotateCertificates: false,
    protectKernelDefaults: false,
  };
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const log = join(logsDir(ctx), `kubelet-${node.name}.log`);
  const proc = spawnDetached(ctx.names.prefix, {
    role,
    argv: inNodeArgv(ctx, node, holder, [
      kubeletBinary(),
      `--config=${configFile}`,
      `--kubeconfig=${kubeconfigFile}`,
      `--hostname-override=${node.name}`,
      `--node-ip=${node.address}`,
      '--root-dir=/var/lib/kubelet',
    ]),
    env: process.env,
    log,
  });
  ctx.state.processes[role] = proc;
  save(ctx);
  ctx.log.info(`${node.name}: kubelet started (pid ${proc.pid})`);
}

let kubelet: string | undefined;
function kubeletBinary(): string {
  kubelet ??= findClusterBinary('kubelet');
  return kubelet;
}

/** A Kubernetes binary setup.sh links under .tools/bin (or one on PATH). */
export function findClusterBinary(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const p = join(dir, '.tools', 'bin', name);
    if (existsSync(p)) return p;
  }
  const onPath = findOnPath(name);
  if (onPath) return onPath;
  throw new LabError('LAB_TOOL_MISSING', `${name} not found in .tools/bin or on PATH: run bash scripts/setup.sh (it builds it from tools/kube)`);
}
