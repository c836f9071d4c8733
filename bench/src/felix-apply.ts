/**
 * Felix apply benchmark: the LinuxDataplane programming a real (throwaway) node namespace with
 * local workload endpoints, policies and (through remote endpoints) IP set members, fed through
 * the real CalcGraph.
 *
 *   node bench/dist/src/felix-apply.js [--endpoints 1000] [--policies 500] [--rounds 30]
 *   node bench/dist/src/felix-apply.js --endpoints 250 --policies 2000 --members 50000 --rounds 40
 *
 * `--members N` adds remote workload endpoints (other nodes) until the policies' selectors put
 * about N members in IP sets (the count is measured and printed). Measured besides the apply:
 * "update → nft applied" (from `graph.onUpdates` to the end of the `nft -f` that carries the
 * change), a full resync (`dp.refresh()` after deltas: list, whole-table write, list) and an
 * idle one (list only), and the process's RSS (this process is the calc graph + dataplane).
 *
 * Host-side interfaces are veth links named cali<tag><n> in the node namespace whose peers
 * (e<n>) all sit in one unconfigured "peers" namespace: the dataplane only needs the host side
 * to exist for routes and sysctls (this kernel has no `dummy` driver). Prints one JSON object.
 * Measured: the first full apply after InSync (split by command through a timing Exec), a
 * no-change apply (baseline: the fixed cost of re-reading the kernel), and, N times each,
 * one policy change and one endpoint label change (calc graph + apply). After each round, the
 * floor of an nft write through the same Exec: a batch of only the guard line each delta opens
 * with (`nftFloorMs`; what a delta costs beyond it is its cache fill, commit and validation).
 */
import { parseArgs } from 'node:util';
import { CalcGraph, inNetns, LinuxDataplane, processExec, type ApplyReport, type DataplaneMessage, type Exec } from '@cattail/felix';
import type { KindOf, SyncerUpdate, Update } from '@cattail/typha/client';
import { FakeClock } from '@cattail/typha/testing';

/** What the felix syncer sends; built here by hand in the views' shapes. */
type FelixUpdate = SyncerUpdate<'felix'>;
import { listSummary } from './histogram.js';
import { machineInfo } from './machine.js';
import { Cleanup, createNetns, createNode, ms, requireNetnsTools, run, uniquePrefix } from './felix-netns.js';

const { values: args } = parseArgs({
  options: {
    endpoints: { type: 'string', default: '1000' },
    policies: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '30' },
    members: { type: 'string', default: '0' },
    'broad-every': { type: 'string', default: '4' },
  },
});
const MEMBERS = Number(args.members);
/** One policy in this many selects about half the endpoints (`env == 'prod'`); the others a few. */
const BROAD_EVERY = Number(args['broad-every']);
const N_EP = Number(args.endpoints);
const N_POL = Number(args.policies);
const ROUNDS = Number(args.rounds);
const NODE = 'node1';
const NAMESPACES = 10;
const APPS = 50;

let revision = 0;
function update(kind: KindOf<'felix'>, name: string, spec: Record<string, unknown>, labels?: Record<string, string>, namespace?: string): FelixUpdate {
  const u: Update = { kind, name, revision: ++revision, value: { spec } };
  if (labels) u.value!.labels = labels;
  if (namespace !== undefined) u.namespace = namespace;
  return u as FelixUpdate;
}

const ns = (i: number): string => `ns-${i % NAMESPACES}`;
const ip = (i: number): string => `10.70.${Math.floor(i / 250)}.${(i % 250) + 1}`;

function wepLabels(i: number, app: number): Record<string, string> {
  return { 'projectcalico.org/namespace': ns(i), app: `app-${app}`, tier: ['web', 'api', 'db'][i % 3], env: i % 2 ? 'prod' : 'dev' };
}

function wep(i: number, iface: string, app = i % APPS): FelixUpdate {
  return update(
    'WorkloadEndpoint',
    `${NODE}-k8s-pod${i}-eth0`,
    { node: NODE, orchestrator: 'k8s', pod: `pod${i}`, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${ip(i)}/32`], profiles: [`kns.${ns(i)}`] },
    wepLabels(i, app),
    ns(i),
  );
}

/** A workload endpoint on another node: only its IP and labels matter here (IP set members). */
function remoteWep(i: number, app = i % APPS): FelixUpdate {
  return update(
    'WorkloadEndpoint',
    `rnode${i % 100}-k8s-rpod${i}-eth0`,
    {
      node: `rnode${i % 100}`,
      orchestrator: 'k8s',
      pod: `rpod${i}`,
      endpoint: 'eth0',
      interfaceName: `calir${i}`,
      ipNetworks: [`10.${80 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}/32`],
      profiles: [`kns.${ns(i)}`],
    },
    wepLabels(i, app),
    ns(i),
  );
}

/** Four shapes, rotating: label-selected peers + TCP ports; CIDRs + a port range; egress deny by CIDR with DNS allowed; set-based selectors. */
function policy(i: number, port = 80): FelixUpdate {
  const app = `app-${i % APPS}`;
  const peer = `app-${(i * 7 + 3) % APPS}`;
  switch (i % 4) {
    case 0:
      return update('GlobalNetworkPolicy', `gnp-${i}`, {
        tier: 'default',
        order: i,
        selector: `app == '${app}'`,
        types: ['Ingress'],
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: `app == '${peer}'` }, destination: { ports: [port, 443] } }],
      });
    case 1:
      return update(
        'NetworkPolicy',
        `np-${i}`,
        {
          tier: 'default',
          order: i,
          selector: `app in {'${app}', '${peer}'}`,
          types: ['Ingress'],
          ingress: [
            {
              action: 'Allow',
              protocol: 'TCP',
              source: { nets: [`172.${16 + (i % 16)}.0.0/16`, `192.168.${i % 256}.0/24`] },
              destination: { ports: [port, '8000:8100'] },
            },
          ],
        },
        undefined,
        ns(i),
      );
    case 2:
      return update(
        'NetworkPolicy',
        `np-${i}`,
        {
          tier: 'default',
          order: i,
          selector: `tier == 'api' && app == '${app}'`,
          types: ['Egress'],
          egress: [
            { action: 'Allow', protocol: 'UDP', destination: { ports: [53] } },
            { action: 'Deny', destination: { nets: [`10.${100 + (i % 100)}.0.0/16`] } },
            { action: 'Allow', protocol: 'TCP', destination: { selector: `app == '${peer}'`, ports: [port] } },
          ],
        },
        undefined,
        ns(i),
      );
    default:
      return update('GlobalNetworkPolicy', `gnp-${i}`, {
        tier: 'default',
        order: i,
        selector: i % BROAD_EVERY === 3 ? `has(app) && env == 'prod' && app not in {'${peer}'}` : `env == 'prod' && app in {'${app}', '${peer}'}`,
        types: ['Ingress', 'Egress'],
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: `tier == 'web' && app == '${peer}'` }, destination: { ports: [port, 9090] } }],
        egress: [{ action: 'Allow' }],
      });
  }
}

function profile(n: number): FelixUpdate {
  return update('Profile', `kns.ns-${n}`, {
    labelsToApply: { 'pcns.projectcalico.org/name': `ns-${n}` },
    ingress: [{ action: 'Allow' }],
    egress: [{ action: 'Allow' }],
  });
}

/** Records wall time of every command by kind, and the size of nft transactions. */
type Part = 'linkRead' | 'nftRead' | 'nftWrite' | 'routeRead' | 'ipBatch' | 'bridge' | 'sysctlRead' | 'sysctlWrite' | 'other';
function classify(file: string, a: readonly string[]): Part {
  if (file === 'nft') return a[0] === '-f' ? 'nftWrite' : 'nftRead';
  if (file === 'sysctl') return a.includes('-w') ? 'sysctlWrite' : 'sysctlRead';
  if (file === 'bridge') return 'bridge';
  if (file === 'ip') return a.includes('-batch') ? 'ipBatch' : a.includes('link') ? 'linkRead' : a.includes('route') ? 'routeRead' : 'other';
  return 'other';
}
class TimingExec {
  parts: Partial<Record<Part, number>> = {};
  nftBytes = 0;
  /** When the last `nft -f` started and returned. */
  nftWriteStart: bigint | undefined;
  nftWriteEnd: bigint | undefined;
  readonly exec: Exec;
  constructor(inner: Exec) {
    this.exec = async (file, a, input) => {
      const t = process.hrtime.bigint();
      if (classify(file, a) === 'nftWrite') this.nftWriteStart = t;
      try {
        return await inner(file, a, input);
      } finally {
        const p = classify(file, a);
        this.parts[p] = round((this.parts[p] ?? 0) + ms(t));
        if (p === 'nftWrite') {
          this.nftBytes = input?.length ?? 0;
          this.nftWriteEnd = process.hrtime.bigint();
        }
      }
    };
  }
  reset(): void {
    this.parts = {};
    this.nftBytes = 0;
    this.nftWriteStart = this.nftWriteEnd = undefined;
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;

function check(r: ApplyReport, what: string): void {
  if (r.errors.length > 0)
    throw new Error(
      `${what}: ${r.errors
        .map((e) => e.message)
        .join('; ')
        .slice(0, 2000)}`,
    );
}

async function main(): Promise<void> {
  await requireNetnsTools('this benchmark');
  const cleanup = new Cleanup();
  try {
    const prefix = uniquePrefix();
    const tag = prefix.slice(5);
    const node = `${prefix}-node`;
    const peers = `${prefix}-peers`;
    cleanup.push(() => run('ip', ['netns', 'del', node]).catch(() => undefined));
    cleanup.push(() => run('ip', ['netns', 'del', peers]).catch(() => undefined));
    const ifaces = Array.from({ length: N_EP }, (_, i) => `cali${tag}${i.toString(16).padStart(5, '0')}`);

    let t = process.hrtime.bigint();
    await createNode(node);
    await createNetns(peers);
    await run('ip', ['-n', node, '-batch', '-'], ifaces.map((n, i) => `link add ${n} type veth peer name e${i} netns ${peers}\nlink set ${n} up\n`).join(''));
    const setupMs = round(ms(t));

    const nodeExec = inNetns(processExec({ timeoutMs: 120_000 }), node);
    const timing = new TimingExec(nodeExec);
    const errors: Error[] = [];
    const dp = new LinuxDataplane({ exec: timing.exec, nodeName: NODE, clock: new FakeClock(), onError: (e) => errors.push(e) });
    cleanup.push(() => dp.close());
    let messages = 0;
    const counts: Record<string, number> = {};
    const sink = {
      onMessages(msgs: DataplaneMessage[]): void {
        messages += msgs.length;
        for (const m of msgs) counts[m.kind] = (counts[m.kind] ?? 0) + 1;
        dp.onMessages(msgs);
      },
    };
    const graph = new CalcGraph(NODE, sink);

    // Snapshot: profiles, policies, endpoints, InSync; then the first full apply.
    const snapshot: FelixUpdate[] = [];
    for (let n = 0; n < NAMESPACES; n++) snapshot.push(profile(n));
    for (let i = 0; i < N_POL; i++) snapshot.push(policy(i));
    for (let i = 0; i < N_EP; i++) snapshot.push(wep(i, ifaces[i]));
    // Each remote endpoint lands in ~0.67 active IP sets with this policy mix (measured at 250
    // local endpoints and 2,000 policies: only the selectors of active policies' rules make sets).
    const remotes = Math.round(MEMBERS / 0.67);
    for (let i = 0; i < remotes; i++) snapshot.push(remoteWep(i));
    t = process.hrtime.bigint();
    graph.onUpdates(snapshot);
    graph.onInSync();
    const calcMs = round(ms(t));
    const snapshotMessages = { total: messages, byKind: { ...counts } };

    timing.reset();
    t = process.hrtime.bigint();
    const first = await dp.apply();
    const firstMs = round(ms(t));
    check(first, 'first apply');
    const firstParts = { ...timing.parts };
    const execSum = Object.values(firstParts).reduce((a, b) => a + (b ?? 0), 0);
    const full = {
      calcGraphMs: calcMs,
      applyMs: firstMs,
      parts: firstParts,
      inProcessMs: round(firstMs - execSum),
      nftTransactionBytes: timing.nftBytes,
      ipBatchLines: first.ipCommands.length,
      sysctlWrites: first.sysctlWrites.length,
      nftApplied: first.nftApplied,
    };
    const routes = (await run('ip', ['-n', node, 'route', 'show', 'proto', '80'])).trim().split('\n').length;
    const nftRules = (await run('ip', ['netns', 'exec', node, 'nft', 'list', 'table', 'inet', 'cattail'])).split('\n').length;
    let ipSetMembers = 0;
    for (const set of dp.desiredState.ipSets.values()) ipSetMembers += set.members.size;
    const rssAfterFirstApplyMiB = round(process.memoryUsage().rss / 2 ** 20);

    // Baseline: an apply with nothing to do (the fixed cost of reading kernel state back).
    const noop: number[] = [];
    const noopParts: Array<Partial<Record<Part, number>>> = [];
    for (let r = 0; r < Math.min(ROUNDS, 10); r++) {
      timing.reset();
      t = process.hrtime.bigint();
      const rep = await dp.apply();
      noop.push(round(ms(t)));
      noopParts.push({ ...timing.parts });
      check(rep, 'no-op apply');
      if (rep.nftApplied || rep.ipCommands.length || rep.sysctlWrites.length) throw new Error(`no-op apply changed something: ${JSON.stringify(rep)}`);
    }

    async function incremental(what: string, make: (r: number) => FelixUpdate): Promise<Record<string, unknown>> {
      const calc: number[] = [];
      const apply: number[] = [];
      const total: number[] = [];
      const nftWrite: number[] = [];
      const toNft: number[] = [];
      const beforeNft: number[] = [];
      const deltaBytes: number[] = [];
      const floor: number[] = [];
      let changed = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const before = messages;
        timing.reset();
        const t0 = process.hrtime.bigint();
        graph.onUpdates([make(r)]);
        const c = ms(t0);
        const rep = await dp.apply();
        const all = ms(t0);
        check(rep, what);
        if (rep.nftApplied) changed++;
        if (messages === before) throw new Error(`${what}: the calc graph sent nothing`);
        if (rep.nftWrite !== 'delta') throw new Error(`${what}: expected a delta, got ${rep.nftWrite}`);
        if (timing.nftWriteEnd !== undefined) toNft.push(round(Number(timing.nftWriteEnd - t0) / 1e6));
        if (timing.nftWriteStart !== undefined) beforeNft.push(round(Number(timing.nftWriteStart - t0) / 1e6));
        deltaBytes.push(timing.nftBytes);
        calc.push(round(c));
        apply.push(round(all - c));
        total.push(round(all));
        nftWrite.push(timing.parts.nftWrite ?? 0);
        // The floor, right after: an `nft -f` through the same Exec whose batch is only the guard
        // line every delta opens with (process start-up, `ip netns exec`, the table list nft
        // fetches, an empty commit; no cache of chains or sets, no rule to validate).
        const f0 = process.hrtime.bigint();
        await nodeExec('nft', ['-f', '-'], `add chain inet cattail filter-forward\n`);
        floor.push(round(ms(f0)));
      }
      return {
        rounds: ROUNDS,
        nftAppliedRounds: changed,
        calcGraphMs: listSummary(calc),
        applyMs: listSummary(apply),
        totalMs: listSummary(total),
        updateToNftAppliedMs: listSummary(toNft),
        updateToNftStartMs: listSummary(beforeNft),
        nftWriteMs: listSummary(nftWrite),
        nftDeltaBytes: listSummary(deltaBytes),
        nftFloorMs: listSummary(floor),
        nftWriteP50VsFloorP50: round(listSummary(nftWrite).p50 / listSummary(floor).p50),
        lastParts: { ...timing.parts },
      };
    }

    // One policy change: gnp-0 flips its first port 80 ↔ 81 (same selector: only its rules change).
    const policyChange = await incremental('policy change', (r) => policy(0, r % 2 === 0 ? 81 : 80));
    // One endpoint label change: pod 5 moves app-5 → app-49 and back (selector and IP-set membership change).
    const labelChange = await incremental('endpoint label change', (r) => wep(5, ifaces[5], r % 2 === 0 ? APPS - 1 : 5));
    // One remote endpoint's label change: its IP moves between IP sets (no rule changes).
    const memberChange = remotes > 0 ? await incremental('remote endpoint label change', (r) => remoteWep(7, r % 2 === 0 ? 8 : 7)) : undefined;

    // Full resync: the periodic refresh after deltas (list, whole-table write, list), then an idle one (list only).
    async function timedRefresh(what: string): Promise<Record<string, unknown>> {
      timing.reset();
      const t0 = process.hrtime.bigint();
      const rep = await dp.refresh();
      const took = round(ms(t0));
      check(rep, what);
      return { ms: took, nftWrite: rep.nftWrite, nftApplied: rep.nftApplied, parts: { ...timing.parts } };
    }
    const resyncAfterDeltas = await timedRefresh('resync after deltas');
    const resyncIdle = await timedRefresh('idle resync');
    const memory = process.memoryUsage();

    const noopSummary = listSummary(noop);
    const ratio = (s: Record<string, unknown>): number => round((s.totalMs as { p50: number }).p50 / noopSummary.p50);
    console.log(
      JSON.stringify(
        {
          benchmark: 'felix-apply',
          machine: machineInfo(),
          config: {
            endpoints: N_EP,
            policies: N_POL,
            namespaces: NAMESPACES,
            profiles: NAMESPACES,
            rounds: ROUNDS,
            remoteEndpoints: remotes,
            broadPolicyEvery: BROAD_EVERY,
            interfaces: 'veth cali<tag><n> in a throwaway node netns, peers in a second netns',
          },
          setupMs,
          snapshotMessages,
          kernel: { routes, nftTableLines: nftRules, ipSetMembers, ipSets: dp.desiredState.ipSets.size },
          fullApply: full,
          noopApplyBaseline: { applyMs: noopSummary, lastParts: noopParts.at(-1) },
          incrementalPolicyChange: { ...policyChange, p50VsNoop: ratio(policyChange) },
          incrementalEndpointLabelChange: { ...labelChange, p50VsNoop: ratio(labelChange) },
          ...(memberChange ? { incrementalIpSetMemberChange: { ...memberChange, p50VsNoop: ratio(memberChange) } } : {}),
          fullResync: { afterDeltas: resyncAfterDeltas, idle: resyncIdle },
          rssMiB: { afterFirstApply: rssAfterFirstApplyMiB, atEnd: round(memory.rss / 2 ** 20), heapUsedAtEnd: round(memory.heapUsed / 2 ** 20) },
          dataplaneErrors: errors.length,
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
