/**
 * The control plane of a `--engine kubernetes` lab, in a namespace of its own on the fabric, as
 * kind's control-plane node is a host on its network:
 *
 *   control-plane namespace ctlab-<id>-cp, eth0 172.31.<o>.250 on the fabric bridge
 *   ┌──────────────────────────────────────────────────────────────────────┐
 *   │ etcd 127.0.0.1:2379 ◀── kube-apiserver 0.0.0.0:6443 (advertises .250) │◀── kubelets, pods (fabric)
 *   │                          ▲            ▲                              │──▶ kubelets :10250 (logs, exec)
 *   │         kube-scheduler ──┘            └── kube-controller-manager     │
 *   └──────────────────────────────────────────────────────────────────────┘
 *        ▲ api-relay: root 127.0.0.1:<port> ─▶ <dir>/kube/apiserver.sock ─▶ 127.0.0.1:6443 inside
 *   kubectl, helm, the tests: <dir>/kube/kubeconfig (admin, https://127.0.0.1:<port>)
 *
 * Every port is fixed (the namespace is the lab's own) except the relay's. The API server's
 * serving certificate names 127.0.0.1, the fabric address and the `kubernetes` Service address.
 * The `kubernetes` Service's endpoint is the advertised fabric address, which nodes and pods
 * route to directly; there is no kube-proxy (see docs/DESIGN.md), so a pod that needs the API
 * is given KUBERNETES_SERVICE_HOST/PORT, as Calico's own installs do without kube-proxy: the
 * lab writes them into ConfigMap kube-system/kubernetes-services-endpoint.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeApiServerArgs } from '@cattail/datastore/testing';
import { logsDir, save, type LabContext } from './context.js';
import { LabError } from './errors.js';
import { findOnPath, until } from './exec.js';
import { kubeconfigPath, kubeDir, labKubectl } from './kube.js';
import { findClusterBinary } from './kube-node.js';
import { clientCert, ensureClusterPki, kubeconfig, type ClusterPki } from './kube-pki.js';
import { freePort } from './ports.js';
import { isAlive, isOurs, logTail, spawnDetached, stopProcess } from './processes.js';
import type { ProcessRecord } from './state.js';

const API_RELAY_MAIN = fileURLToPath(new URL('./api-relay-main.js', import.meta.url));
export const APISERVER_PORT = 6443;
const ETCD_URL = 'http://127.0.0.1:2379';

/** The API server as the nodes and pods reach it (its fabric address). */
export function inClusterApiserver(ctx: LabContext): { host: string; port: number; url: string } {
  const host = ctx.names.controlPlaneAddress;
  return { host, port: APISERVER_PORT, url: `https://${host}:${APISERVER_PORT}` };
}

function running(ctx: LabContext, role: string): ProcessRecord | undefined {
  const rec = ctx.state.processes[role];
  return rec && isOurs(ctx.names.prefix, rec) ? rec : undefined;
}

/** Starts `argv` inside the control-plane namespace unless our `role` runs. */
function startInControlPlane(ctx: LabContext, role: string, argv: string[]): ProcessRecord {
  const have = running(ctx, role);
  if (have) return have;
  const log = join(logsDir(ctx), `${role}.log`);
  const proc = spawnDetached(ctx.names.prefix, {
    role,
    argv: [findOnPath('ip') ?? 'ip', 'netns', 'exec', ctx.names.controlPlaneNs, ...argv],
    env: process.env,
    log,
  });
  ctx.state.processes[role] = proc;
  save(ctx);
  ctx.log.info(`${role} started in ${ctx.names.controlPlaneNs} (pid ${proc.pid})`);
  return proc;
}

function readyz(port: number, pki: ClusterPki): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`https://127.0.0.1:${port}/readyz`, { ca: pki.tls.ca, cert: pki.tls.clientCert, key: pki.tls.clientKey, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * etcd, kube-apiserver and the relay to it, then the scheduler and the controller manager; waits
 * until the API server is ready through the relay. Returns the PKI (the nodes' certificates come
 * from the same CA).
 */
export async function ensureControlPlane(ctx: LabContext): Promise<ClusterPki> {
  const s = ctx.state;
  const dir = kubeDir(ctx.dir);
  mkdirSync(dir, { recursive: true });
  const pki = await ensureClusterPki(join(dir, 'pki'), ctx.names.controlPlaneAddress);
  const etcdBin = findOnPath('etcd');
  if (!etcdBin) throw new LabError('LAB_TOOL_MISSING', 'etcd not found: apt-get install etcd-server (or bash scripts/setup.sh)');
  s.etcd.clientPort = 2379;
  s.etcd.peerPort = 2380;
  mkdirSync(s.etcd.dataDir, { recursive: true });
  const etcd = startInControlPlane(ctx, 'etcd', [
    etcdBin,
    '--name=control-plane',
    `--data-dir=${s.etcd.dataDir}`,
    `--listen-client-urls=${ETCD_URL}`,
    `--advertise-client-urls=${ETCD_URL}`,
    '--listen-peer-urls=http://127.0.0.1:2380',
    '--initial-advertise-peer-urls=http://127.0.0.1:2380',
    '--initial-cluster=control-plane=http://127.0.0.1:2380',
    '--log-level=warn',
  ]);
  const apiserver = startInControlPlane(ctx, 'kube-apiserver', [
    findClusterBinary('kube-apiserver'),
    ...kubeApiServerArgs({
      etcdUrl: ETCD_URL,
      port: APISERVER_PORT,
      pki,
      extraArgs: [
        '--bind-address=0.0.0.0',
        `--advertise-address=${ctx.names.controlPlaneAddress}`,
        '--endpoint-reconciler-type=lease',
        `--kubelet-client-certificate=${pki.kubeletClient.certFile}`,
        `--kubelet-client-key=${pki.kubeletClient.keyFile}`,
        '--kubelet-preferred-address-types=InternalIP',
        '--enable-admission-plugins=NodeRestriction',
      ],
    }),
  ]);
  s.kube ??= { port: 0 };
  let relay = running(ctx, 'api-relay');
  if (!relay) {
    s.kube.port = await freePort();
    const log = join(logsDir(ctx), 'api-relay.log');
    writeFileSync(log, '');
    relay = spawnDetached(ctx.names.prefix, {
      role: 'api-relay',
      argv: [
        process.execPath,
        API_RELAY_MAIN,
        '--netns',
        ctx.names.controlPlaneNs,
        '--port',
        String(s.kube.port),
        '--sock',
        join(dir, 'apiserver.sock'),
        '--target-port',
        String(APISERVER_PORT),
      ],
      env: process.env,
      log,
    });
    s.processes['api-relay'] = relay;
    save(ctx);
    const r = relay;
    const v = await until(
      () => (!isAlive(r) ? 'exited' : /^ready$/m.test(readFileSync(log, 'utf8')) ? 'ready' : undefined),
      'the API relay',
      15_000,
      () => logTail(log, 600),
    );
    if (v === 'exited') throw new LabError('LAB_START_FAILED', `the API relay exited at start: ${logTail(log, 1000)}`);
  }
  writeFileSync(
    kubeconfigPath(ctx.dir),
    kubeconfig(`https://127.0.0.1:${s.kube.port}`, pki.tls.caFile, 'cattail-admin', { certFile: pki.tls.clientCertFile, keyFile: pki.tls.clientKeyFile }),
  );
  const port = s.kube.port;
  const v = await until(
    async () => (!isAlive(etcd) ? 'etcd exited' : !isAlive(apiserver) ? 'kube-apiserver exited' : (await readyz(port, pki)) === 200 ? 'ready' : undefined),
    `kube-apiserver (through 127.0.0.1:${port})`,
    120_000,
    () => logTail(apiserver.log, 800),
  );
  if (v !== 'ready') {
    const which = v.startsWith('etcd') ? etcd : apiserver;
    throw new LabError('LAB_START_FAILED', `${v} at start; log ${which.log}:\n${logTail(which.log, 2000)}`);
  }
  ctx.log.info(`kube-apiserver ready at ${inClusterApiserver(ctx).url} (from this machine: https://127.0.0.1:${port})`);

  // The scheduler and the controller manager talk to the API server on the namespace's loopback.
  const local = `https://127.0.0.1:${APISERVER_PORT}`;
  const schedKc = join(dir, 'kube-scheduler.kubeconfig');
  writeFileSync(schedKc, kubeconfig(local, pki.tls.caFile, 'system:kube-scheduler', await clientCert(pki.dir, 'kube-scheduler', '/CN=system:kube-scheduler')));
  const cmKc = join(dir, 'kube-controller-manager.kubeconfig');
  writeFileSync(
    cmKc,
    kubeconfig(
      local,
      pki.tls.caFile,
      'system:kube-controller-manager',
      await clientCert(pki.dir, 'kube-controller-manager', '/CN=system:kube-controller-manager'),
    ),
  );
  startInControlPlane(ctx, 'kube-scheduler', [
    findClusterBinary('kube-scheduler'),
    `--kubeconfig=${schedKc}`,
    `--authentication-kubeconfig=${schedKc}`,
    `--authorization-kubeconfig=${schedKc}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
  ]);
  startInControlPlane(ctx, 'kube-controller-manager', [
    findClusterBinary('kube-controller-manager'),
    `--kubeconfig=${cmKc}`,
    `--authentication-kubeconfig=${cmKc}`,
    `--authorization-kubeconfig=${cmKc}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki.serviceAccount.keyFile}`,
    `--root-ca-file=${pki.tls.caFile}`,
    '--cluster-name=cattail-lab',
    // Calico's IPAM gives pods their addresses: no node podCIDRs.
    '--allocate-node-cidrs=false',
  ]);
  await ensureServicesEndpoint(ctx, 'kube-system');
  return pki;
}

/**
 * Where pods reach the API server without kube-proxy, under the name Calico's operator uses:
 * ConfigMap `<namespace>/kubernetes-services-endpoint` (pods take it with `envFrom:
 * configMapRef: kubernetes-services-endpoint, optional: true`).
 */
export async function ensureServicesEndpoint(ctx: LabContext, namespace: string): Promise<void> {
  const api = inClusterApiserver(ctx);
  const endpoint = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kubernetes-services-endpoint', namespace },
    data: { KUBERNETES_SERVICE_HOST: api.host, KUBERNETES_SERVICE_PORT: String(api.port) },
  };
  await labKubectl(ctx.dir, ['apply', '-f', '-'], JSON.stringify(endpoint));
}

/** Stops a control-plane process (for tests that restart one). */
export async function stopControlPlaneProcess(ctx: LabContext, role: string): Promise<boolean> {
  const rec = ctx.state.processes[role];
  return rec ? stopProcess(ctx.names.prefix, rec, { graceMs: 5_000 }) : false;
}
