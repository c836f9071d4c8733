/**
 * The lab on the Kubernetes datastore (`cattail lab up --datastore kubernetes`): a real
 * kube-apiserver on 127.0.0.1 over the lab's etcd, with Calico's CRDs; the lab plays the parts a
 * cluster would (the kubelet and calico/node): Namespaces with the lab's labels, a Node object
 * per node, and per pod a Pod bound to its node, wired by the CNI plugin in KDD mode (which
 * writes the pod's IP annotations), whose status the lab then sets as the kubelet does.
 *
 *   etcd ◀── kube-apiserver (127.0.0.1:<kube.port>, certificates in <dir>/kube/pki, one year)
 *              ▲ admin kubeconfig <dir>/kube/kubeconfig: Typha, the CNI plugin (through the
 *              │ loopback relay inside each node namespace), `cattail lab kubectl`
 *
 * No kube-controller-manager runs: the lab creates each namespace's `default` ServiceAccount
 * itself, and nothing deletes pods of a deleted node.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { adminKubeconfig, calicoCrdDir, findKubeBinary, kubeApiServerArgs, makeKubePki, runKubectl, type KubePki } from '@cattail/datastore/testing';
import { logsDir, save, type LabContext } from './context.js';
import { LabError } from './errors.js';
import { until } from './exec.js';
import { POD_NAMESPACES } from './names.js';
import { freePort } from './ports.js';
import { isAlive, isOurs, logTail, spawnDetached, stopProcess } from './processes.js';
import { etcdEndpoint, type LabState } from './state.js';

const CERT_DAYS = 365;

export function kubeDir(dir: string): string {
  return join(dir, 'kube');
}

export function kubeconfigPath(dir: string): string {
  return join(kubeDir(dir), 'kubeconfig');
}

export function kubeUrl(state: Pick<LabState, 'kube'>): string {
  return `https://127.0.0.1:${state.kube?.port ?? 0}`;
}

/** The PKI made at the first `up` (the file names are makeKubePki's). */
async function ensurePki(dir: string): Promise<KubePki> {
  const pki = join(kubeDir(dir), 'pki');
  const f = (name: string) => join(pki, name);
  if (!existsSync(f('service-account.pub'))) return makeKubePki(pki, { days: CERT_DAYS });
  return {
    tls: {
      caFile: f('ca.crt'),
      serverCertFile: f('server.crt'),
      serverKeyFile: f('server.key'),
      clientCertFile: f('client.crt'),
      clientKeyFile: f('client.key'),
      ca: readFileSync(f('ca.crt')),
      clientCert: readFileSync(f('client.crt')),
      clientKey: readFileSync(f('client.key')),
    },
    serviceAccount: { keyFile: f('service-account.key'), publicKeyFile: f('service-account.pub') },
  };
}

function readyz(port: number, pki: KubePki): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`https://127.0.0.1:${port}/readyz`, { ca: pki.tls.ca, cert: pki.tls.clientCert, key: pki.tls.clientKey, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** kubectl against the lab's API server. */
export function labKubectl(dir: string, args: readonly string[], input?: string): Promise<string> {
  return runKubectl(findKubeBinary('kubectl'), ['--kubeconfig', kubeconfigPath(dir), ...args], input);
}

/** Starts the API server unless ours runs, then makes sure the CRDs and the lab's namespaces exist. */
export async function ensureKubeApiServer(ctx: LabContext): Promise<void> {
  const s = ctx.state;
  mkdirSync(kubeDir(ctx.dir), { recursive: true });
  const pki = await ensurePki(ctx.dir);
  s.kube ??= { port: await freePort() };
  const rec = s.processes['kube-apiserver'];
  if (!(rec && isOurs(ctx.names.prefix, rec))) {
    for (let attempt = 0; ; attempt++) {
      const log = join(logsDir(ctx), 'kube-apiserver.log');
      const proc = spawnDetached(ctx.names.prefix, {
        role: 'kube-apiserver',
        argv: [findKubeBinary('kube-apiserver'), ...kubeApiServerArgs({ etcdUrl: etcdEndpoint(s), port: s.kube.port, pki })],
        env: process.env,
        log,
      });
      s.processes['kube-apiserver'] = proc;
      save(ctx);
      const port = s.kube.port;
      const v = await until(
        async () => (isAlive(proc) ? ((await readyz(port, pki)) === 200 ? 'ready' : undefined) : 'exited'),
        `kube-apiserver at ${kubeUrl(s)}`,
        90_000,
        () => logTail(log, 800),
      );
      if (v === 'ready') {
        ctx.log.info(`kube-apiserver running at ${kubeUrl(s)} (pid ${proc.pid})`);
        break;
      }
      await stopProcess(ctx.names.prefix, proc, { graceMs: 1000 });
      // A port taken between our probe and the server's bind: a new port, once or twice.
      if (attempt < 2 && /address already in use/.test(logTail(log, 4000))) {
        s.kube.port = await freePort();
        continue;
      }
      throw new LabError('LAB_START_FAILED', `kube-apiserver exited at start: ${logTail(log, 1500)}`);
    }
  }
  writeFileSync(kubeconfigPath(ctx.dir), JSON.stringify(adminKubeconfig(kubeUrl(s), pki.tls, 'cattail-lab'), null, 2));
  const crds = calicoCrdDir();
  await labKubectl(ctx.dir, ['apply', '--server-side', '-f', crds]);
  await labKubectl(ctx.dir, ['wait', '--for=condition=Established', '--timeout=60s', '-f', crds]);
  // The lab's namespaces, with the labels policies select on, and their `default` ServiceAccounts.
  const items = POD_NAMESPACES.flatMap((ns) => [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels: ns.labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns.name } },
  ]);
  await labKubectl(ctx.dir, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
}

/** The Kubernetes Node a lab node stands for (calico/node then adds its annotations through the Calico Node). */
export async function ensureKubeNode(dir: string, name: string): Promise<void> {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } };
  await labKubectl(dir, ['apply', '-f', '-'], JSON.stringify(node));
}

/** The Pod, bound to its node as the scheduler would (before the CNI plugin is called). */
export async function ensureKubePod(dir: string, pod: { namespace: string; name: string; node: string; labels: Record<string, string> }): Promise<void> {
  const obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: pod.namespace, labels: pod.labels },
    spec: { nodeName: pod.node, containers: [{ name: 'app', image: 'cattail-lab/none' }] },
  };
  await labKubectl(dir, ['apply', '-f', '-'], JSON.stringify(obj));
}

/** What the kubelet writes once the sandbox is up: the pod's IP and phase. */
export async function setKubePodStatus(dir: string, pod: { namespace: string; name: string }, ip: string): Promise<void> {
  const status = { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } };
  await labKubectl(dir, ['patch', 'pod', '-n', pod.namespace, pod.name, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
}
