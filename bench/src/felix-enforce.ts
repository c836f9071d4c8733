/**
 * Felix enforcement latency: policy write in etcd → enforced in the kernel, as a traffic probe
 * sees it. All real: etcd, an in-process Typha, an in-process FelixDaemon whose LinuxDataplane
 * programs a throwaway node namespace with two veth pods (as felix/test/integration/felix-e2e).
 *
 *   node bench/dist/src/felix-enforce.js [--rounds 20] [--interval-ms 10] [--debounce-ms 10]
 *
 * The probe is a small node process in pod a opening a NEW TCP connection to a listener in pod b
 * every interval (a long-running ping would not do: its flow stays "established" in conntrack,
 * which the policy accepts before any rule, as Calico does). Each attempt is stamped with its
 * send time, so a latency is (send time of the first attempt that shows the new state) − (wall
 * clock just before the write), resolution one probe interval. Each round: create a
 * GlobalNetworkPolicy denying TCP into b, wait for the first failed attempt sent after the
 * write; delete it, wait for the first successful one.
 * The etcd write's own round trip is reported alongside (baseline). Prints one JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { checkResource, type Resource } from '@cattail/api';
import { EtcdDatastore } from '@cattail/datastore';
import { startEtcd } from '@cattail/datastore/testing';
import { FelixDaemon, LinuxDataplane, loadFelixLayers } from '@cattail/felix';
import { TyphaDaemon, loadTyphaConfig } from '@cattail/typha';
import type { Logger } from '@cattail/typha/client';
import { listSummary } from './histogram.js';
import { machineInfo } from './machine.js';
import { Cleanup, createNetns, createNode, requireNetnsTools, succeeds, uniquePrefix, wirePod } from './felix-netns.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    'interval-ms': { type: 'string', default: '10' },
    'debounce-ms': { type: 'string', default: '10' },
  },
});
const ROUNDS = Number(args.rounds);
const INTERVAL = Number(args['interval-ms']);
const DEBOUNCE = Number(args['debounce-ms']);
const CONNECT_TIMEOUT = 250;
const PORT = 7070;
const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {}, child: () => quiet };
const V3 = 'projectcalico.org/v3';
const NODE = 'node1';
const round = (x: number): number => Math.round(x * 100) / 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function checked(r: unknown): Resource {
  const res = checkResource(r);
  if (!res.ok) throw new Error(`invalid resource: ${JSON.stringify(res.issues)}`);
  return res.resource;
}

/** Probe events: (wall-clock send time ms, connected?). */
interface ProbeEvent {
  at: number;
  ok: boolean;
}

const SERVER_JS = `require('net').createServer((s) => s.destroy()).listen(Number(process.argv[2]), process.argv[1]);`;
// A fresh TCP connection every interval (a new flow each time, so conntrack's "established"
// fast path cannot hide a new deny): prints "<send time ms> ok|fail" per attempt.
const CLIENT_JS = `const net = require('net'); const [host, port, every, to] = process.argv.slice(1).map((v, i) => (i ? Number(v) : v));
setInterval(() => { const at = performance.timeOrigin + performance.now(); const s = net.connect({ host, port });
  const done = (ok) => { s.removeAllListeners(); s.on('error', () => {}); s.destroy(); clearTimeout(t); process.stdout.write(at.toFixed(3) + (ok ? ' ok' : ' fail') + '\\n'); };
  const t = setTimeout(() => done(false), to); s.once('connect', () => done(true)); s.once('error', () => done(false)); }, every);`;

class Probe {
  readonly events: ProbeEvent[] = [];
  readonly server: ChildProcess;
  readonly client: ChildProcess;
  #buf = '';
  constructor(podA: string, podB: string, ip: string, port: number) {
    this.server = spawn('ip', ['netns', 'exec', podB, process.execPath, '-e', SERVER_JS, ip, String(port)], { stdio: 'ignore' });
    this.client = spawn('ip', ['netns', 'exec', podA, process.execPath, '-e', CLIENT_JS, ip, String(port), String(INTERVAL), String(CONNECT_TIMEOUT)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.client.stdout!.setEncoding('utf8');
    this.client.stdout!.on('data', (d: string) => {
      this.#buf += d;
      let nl: number;
      while ((nl = this.#buf.indexOf('\n')) >= 0) {
        const [at, res] = this.#buf.slice(0, nl).split(' ');
        this.#buf = this.#buf.slice(nl + 1);
        this.events.push({ at: Number(at), ok: res === 'ok' });
      }
    });
  }
  /** Waits for the first attempt sent at or after `since` with the given outcome; returns its send time. */
  async first(ok: boolean, since: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let from = 0;
    for (;;) {
      for (; from < this.events.length; from++) {
        const e = this.events[from];
        if (e.at >= since && e.ok === ok) return e.at;
      }
      if (Date.now() > deadline) throw new Error(`probe: no ${ok ? 'success' : 'failure'} within ${timeoutMs} ms (${this.events.length} attempts seen)`);
      await sleep(2);
    }
  }
  stop(): void {
    // \`ip netns exec\` execs the program, so these PIDs are the node processes themselves.
    for (const c of [this.client, this.server]) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGTERM');
  }
}

async function main(): Promise<void> {
  await requireNetnsTools('this benchmark');
  if (!(await succeeds('ping', ['-V']))) throw new Error('this benchmark needs `ping` (iputils)');
  const cleanup = new Cleanup();
  try {
    const prefix = uniquePrefix();
    const tag = prefix.slice(5);
    const node = `${prefix}-node`;
    const pods = { a: `${prefix}-a`, b: `${prefix}-b` };
    const ifaces = { a: `cali${tag}a`, b: `cali${tag}b` };
    const ips = { a: '10.67.0.1', b: '10.67.0.2' };
    for (const n of [node, pods.a, pods.b]) cleanup.push(() => succeeds('ip', ['netns', 'del', n]));
    await createNode(node);
    for (const k of ['a', 'b'] as const) {
      await createNetns(pods[k]);
      await wirePod(node, pods[k], ifaces[k], ips[k]);
    }

    const etcd = await startEtcd();
    cleanup.push(() => etcd.stop());
    const ds = new EtcdDatastore(etcd.clientOptions());
    cleanup.push(() => ds.close());
    const typha = new TyphaDaemon(
      loadTyphaConfig({
        TYPHA_ETCDENDPOINTS: etcd.endpoints.join(','),
        TYPHA_SERVERHOST: '127.0.0.1',
        TYPHA_SERVERPORT: '0',
        TYPHA_CONNECTIONREBALANCINGMODE: 'none',
        TYPHA_SERVERBATCHWINDOWMS: '5',
      }),
      { logger: quiet },
    );
    const { syncPort } = await typha.start();
    cleanup.push(() => typha.stop());
    const felix = new FelixDaemon(
      loadFelixLayers({
        NODENAME: NODE,
        FELIX_TYPHAADDR: `127.0.0.1:${syncPort}`,
        FELIX_NETNS: node,
        FELIX_DATAPLANEDEBOUNCEMS: String(DEBOUNCE),
        FELIX_MTUFILE: '', // never this machine's /var/lib/calico/mtu
        ETCD_ENDPOINTS: etcd.endpoints.join(','),
      }),
      { logger: quiet },
    );
    if (!(felix.dataplane instanceof LinuxDataplane)) throw new Error('expected the linux dataplane');
    await felix.start();
    cleanup.push(() => felix.stop());

    await ds.create(
      checked({ apiVersion: V3, kind: 'Profile', metadata: { name: 'allow-all' }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] } }),
    );
    for (const k of ['a', 'b'] as const) {
      await ds.create(
        checked({
          apiVersion: V3,
          kind: 'WorkloadEndpoint',
          metadata: { name: `${NODE}-k8s-${k}-eth0`, namespace: 'default', labels: { pod: k } },
          spec: { node: NODE, orchestrator: 'k8s', pod: k, endpoint: 'eth0', interfaceName: ifaces[k], ipNetworks: [`${ips[k]}/32`], profiles: ['allow-all'] },
        }),
      );
    }

    const probe = new Probe(pods.a, pods.b, ips.b, PORT);
    cleanup.push(() => probe.stop());
    const t0 = Date.now();
    await probe.first(true, 0, 20_000);
    const firstConnectivityMs = Date.now() - t0;

    const deny = checked({
      apiVersion: V3,
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'bench-deny-tcp-b' },
      spec: { selector: "pod == 'b'", types: ['Ingress'], ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [PORT] } }, { action: 'Allow' }] },
    });
    const denyMs: number[] = [];
    const allowMs: number[] = [];
    const createWriteMs: number[] = [];
    const deleteWriteMs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      await sleep(100 + Math.random() * 100); // de-phase the write against the probe interval
      let w = Date.now();
      await ds.create(deny);
      createWriteMs.push(Date.now() - w);
      denyMs.push(round((await probe.first(false, w, 10_000)) - w));
      await sleep(100 + Math.random() * 100);
      w = Date.now();
      await ds.delete({ kind: 'GlobalNetworkPolicy', name: 'bench-deny-tcp-b' });
      deleteWriteMs.push(Date.now() - w);
      allowMs.push(round((await probe.first(true, w, 10_000)) - w));
    }
    const sent = probe.events.length;
    console.log(
      JSON.stringify(
        {
          benchmark: 'felix-enforce',
          machine: machineInfo(),
          config: {
            rounds: ROUNDS,
            probeIntervalMs: INTERVAL,
            felixDataplaneDebounceMs: DEBOUNCE,
            typhaBatchWindowMs: 5,
            probe: `new TCP connection a → b:${PORT} every interval (timeout ${CONNECT_TIMEOUT} ms = failure), denied by a GlobalNetworkPolicy on b ingress`,
          },
          firstConnectivityMs,
          writeToDenyEnforcedMs: listSummary(denyMs),
          writeToAllowRestoredMs: listSummary(allowMs),
          baselineEtcdCreateMs: listSummary(createWriteMs),
          baselineEtcdDeleteMs: listSummary(deleteWriteMs),
          raw: { denyMs, allowMs },
          probeAttempts: sent,
          felix: felix.status(),
          lastApply: felix.dataplane.lastReport
            ? { ...felix.dataplane.lastReport, errors: felix.dataplane.lastReport.errors.map((e) => e.message) }
            : undefined,
        },
        null,
        2,
      ),
    );
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
