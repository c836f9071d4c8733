/**
 * The cluster's shared control plane, in the root namespace on 127.0.0.1: one etcd (data in the
 * state dir, so `up` after a crash finds the cluster as it was) and two Typha replicas on fixed
 * ports (agents list both in FELIX_TYPHAADDR, so a replica that dies or restarts on its port is
 * found again without reconfiguring anyone).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { etcd } from '@cattail/datastore';
import { logSeverity, save, logsDir, type LabContext } from './context.js';
import { LabError } from './errors.js';
import { findOnPath, until } from './exec.js';
import { freePort, httpGet } from './ports.js';
import { isAlive, isOurs, logTail, spawnDetached, stopProcess } from './processes.js';
import { kubeconfigPath } from './kube.js';
import { datastoreOf, etcdEndpoint } from './state.js';

const TYPHA_REPLICAS = 2;

async function etcdAnswers(endpoint: string): Promise<boolean> {
  const client = new etcd.EtcdClient({ endpoints: [endpoint], dialTimeoutMs: 500, requestTimeoutMs: 1000 });
  try {
    return (await client.status()).leader !== '0';
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** Starts etcd unless our etcd runs; waits until it has a leader. */
export async function ensureEtcd(ctx: LabContext): Promise<void> {
  const s = ctx.state;
  const rec = s.processes.etcd;
  if (rec && isOurs(ctx.names.prefix, rec)) return;
  const binary = findOnPath('etcd');
  if (!binary) throw new LabError('LAB_TOOL_MISSING', 'etcd not found: apt-get install etcd-server (or bash scripts/setup.sh)');
  mkdirSync(s.etcd.dataDir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    if (!s.etcd.clientPort) {
      s.etcd.clientPort = await freePort();
      s.etcd.peerPort = await freePort();
    }
    const peer = `http://127.0.0.1:${s.etcd.peerPort}`;
    const log = join(logsDir(ctx), 'etcd.log');
    const proc = spawnDetached(ctx.names.prefix, {
      role: 'etcd',
      argv: [
        binary,
        '--name',
        ctx.names.prefix,
        '--data-dir',
        s.etcd.dataDir,
        '--listen-client-urls',
        etcdEndpoint(s),
        '--advertise-client-urls',
        etcdEndpoint(s),
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `${ctx.names.prefix}=${peer}`,
        '--initial-cluster-token',
        ctx.names.prefix,
        '--log-level',
        'warn',
      ],
      env: process.env,
      log,
    });
    s.processes.etcd = proc;
    save(ctx);
    try {
      await until(
        async () => (isAlive(proc) ? await etcdAnswers(etcdEndpoint(s)) : 'exited'),
        `etcd at ${etcdEndpoint(s)}`,
        20_000,
        () => logTail(log, 600),
      ).then((v) => {
        if (v === 'exited') throw new LabError('LAB_START_FAILED', `etcd exited at start: ${logTail(log, 1500)}`);
      });
      ctx.log.info(`etcd running at ${etcdEndpoint(s)} (pid ${proc.pid})`);
      return;
    } catch (err) {
      await stopProcess(ctx.names.prefix, proc, { graceMs: 1000 });
      // A port taken between our probe and etcd's bind: new ports, once or twice.
      if (attempt < 2 && /address already in use/.test(logTail(log, 4000))) {
        s.etcd.clientPort = 0;
        continue;
      }
      throw err;
    }
  }
}

function typhaRole(i: number): string {
  return `typha-${i}`;
}

/** Starts Typha replica i (1-based) on its recorded ports unless it runs; waits until ready. */
export async function ensureTypha(ctx: LabContext, i: number): Promise<void> {
  const s = ctx.state;
  let t = s.typhas.find((x) => x.index === i);
  if (!t) {
    t = { index: i, port: await freePort(), healthPort: await freePort() };
    s.typhas.push(t);
    s.typhas.sort((a, b) => a.index - b.index);
  }
  const role = typhaRole(i);
  const rec = s.processes[role];
  if (!(rec && isOurs(ctx.names.prefix, rec))) {
    const log = join(logsDir(ctx), `${role}.log`);
    const proc = spawnDetached(ctx.names.prefix, {
      role,
      argv: [process.execPath, ctx.cattailBin, 'typha'],
      env: {
        ...process.env,
        ...(datastoreOf(s) === 'kubernetes'
          ? { TYPHA_DATASTORETYPE: 'kubernetes', TYPHA_KUBECONFIG: kubeconfigPath(ctx.dir) }
          : { TYPHA_ETCDENDPOINTS: etcdEndpoint(s) }),
        TYPHA_SERVERHOST: '127.0.0.1',
        TYPHA_SERVERPORT: String(t.port),
        TYPHA_HEALTHENABLED: 'true',
        TYPHA_HEALTHHOST: '127.0.0.1',
        TYPHA_HEALTHPORT: String(t.healthPort),
        TYPHA_CONNECTIONREBALANCINGMODE: 'none',
        TYPHA_SERVERBATCHWINDOWMS: '5',
        TYPHA_SHUTDOWNTIMEOUTSECS: '1',
        TYPHA_LOGSEVERITYSCREEN: logSeverity(),
      },
      log,
    });
    s.processes[role] = proc;
    save(ctx);
    await until(
      async () => (isAlive(proc) ? (await httpGet(t.healthPort, '/readiness'))?.status === 200 : 'exited'),
      `Typha ${i} to be ready on 127.0.0.1:${t.port}`,
      30_000,
      () => logTail(log, 800),
    ).then((v) => {
      if (v === 'exited') throw new LabError('LAB_START_FAILED', `Typha ${i} exited at start: ${logTail(log, 1500)}`);
    });
    ctx.log.info(`Typha ${i} ready at 127.0.0.1:${t.port} (pid ${proc.pid})`);
  }
}

export async function ensureTyphas(ctx: LabContext): Promise<void> {
  for (let i = 1; i <= TYPHA_REPLICAS; i++) await ensureTypha(ctx, i);
}

/** Kills Typha replica i (SIGKILL by default: a crash, no hand-off). */
export async function killTypha(ctx: LabContext, i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<boolean> {
  const rec = ctx.state.processes[typhaRole(i)];
  if (!rec) return false;
  return stopProcess(ctx.names.prefix, rec, { signal, graceMs: 10_000 });
}
