/**
 * The chart without a cluster: `helm lint`, what `helm template` renders for default and other
 * values, the values schema refusing bad input, and the CRDs staying those `npm run crds`
 * generates. Every env name the chart gives a component must be one its config reads, and the
 * values must pass that config's own validation, so a renamed setting breaks this test and not
 * a cluster.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadStartupConfig } from '@cattail/startup';
import { TYPHA_PARAMS, loadTyphaConfig } from '@cattail/typha';
import { FELIX_PARAMS } from '@cattail/felix';
import { DEFAULT_TYPHA_PORT_NAME } from '@cattail/typha/client';
import { CONFD_PARAMS, loadConfdConfig } from '@cattail/confd';
import { parseNetConf } from '@cattail/cni';
import { CNI_DAEMON_PARAMS, DEFAULT_DAEMON_SOCKET, loadCniDaemonConfig } from '@cattail/cni/daemon';
import { CHART_DIR, REPO_ROOT, envOf, find, helm, helmOk, render, type KubeObject } from './chart-kit.js';

function knownNames(prefix: string, params: Record<string, unknown>): Set<string> {
  return new Set(Object.keys(params).map((k) => `${prefix}${k.toUpperCase()}`));
}

function container(workload: any, name: string): any {
  const c = [...(workload.spec.template.spec.initContainers ?? []), ...workload.spec.template.spec.containers].find((x: any) => x.name === name);
  assert.ok(c, `container ${name} in ${workload.metadata.name}`);
  return c;
}

function kinds(objs: readonly KubeObject[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of objs) out[o.kind] = (out[o.kind] ?? 0) + 1;
  return out;
}

describe('helm/cattail', () => {
  test('helm lint --strict passes, with default and other values', async () => {
    const variants = [
      [],
      ['datastore=etcd', 'etcd.endpoints={https://10.0.0.10:2379}', 'tls.enabled=false'],
      ['typha.replicas=5', 'kubeControllers.enabled=false'],
    ];
    for (const sets of variants) {
      const res = await helm(['lint', '--strict', CHART_DIR, ...sets.flatMap((s) => ['--set', s])]);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  test('default values render the whole installation, every object valid YAML', async () => {
    const objs = await render();
    assert.deepEqual(kinds(objs), {
      ClusterRole: 3,
      ClusterRoleBinding: 3,
      ConfigMap: 1,
      DaemonSet: 1,
      Deployment: 2,
      PodDisruptionBudget: 1,
      Role: 3,
      RoleBinding: 3,
      Secret: 2,
      Service: 1,
      ServiceAccount: 3,
    });
    for (const o of objs) {
      assert.ok(o.apiVersion && o.metadata.name, `${o.kind} has apiVersion and name`);
      if (!o.kind.startsWith('Cluster')) assert.equal(o.metadata.namespace, 'cattail-system', `${o.kind}/${o.metadata.name} namespace`);
    }

    const svc = find(objs, 'Service', '-typha');
    assert.equal(DEFAULT_TYPHA_PORT_NAME, 'cattail-typha', "the agents' discovery looks up the port the chart names");
    assert.deepEqual(
      svc.spec.ports.map((p: any) => [p.name, p.port]),
      [
        ['cattail-typha', 5473],
        ['metrics', 9093],
      ],
    );

    const typha = find(objs, 'Deployment', '-typha');
    assert.equal(typha.spec.replicas, 3, 'rule of thumb for 200 nodes: 1 + 2');
    const pod = typha.spec.template.spec;
    assert.equal(pod.priorityClassName, 'system-cluster-critical');
    const tc = container(typha, 'typha');
    const env = envOf(tc);
    assert.equal(String(pod.terminationGracePeriodSeconds), env.get('TYPHA_SHUTDOWNTIMEOUTSECS'));
    assert.equal(env.get('TYPHA_DATASTORETYPE'), 'kubernetes');
    assert.equal(env.get('TYPHA_K8SNAMESPACE'), 'cattail-system');
    assert.equal(env.get('TYPHA_CLIENTCN'), 'cattail-node');
    assert.equal(tc.livenessProbe.httpGet.path, '/liveness');
    assert.equal(tc.readinessProbe.httpGet.path, '/readiness');
    assert.equal(tc.livenessProbe.httpGet.port, Number(env.get('TYPHA_HEALTHPORT')));
    assert.deepEqual(
      tc.ports.map((p: any) => p.name),
      ['cattail-typha', 'metrics'],
    );
    const zones = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution.map((t: any) => t.podAffinityTerm.topologyKey);
    assert.ok(zones.includes('topology.kubernetes.io/zone'));
    // Every TYPHA_ name is a setting Typha reads, and Typha accepts the values.
    const typhaNames = knownNames('TYPHA_', TYPHA_PARAMS);
    for (const name of env.keys()) assert.ok(typhaNames.has(name), `Typha reads ${name}`);
    loadTyphaConfig(Object.fromEntries(env));

    const ds = find(objs, 'DaemonSet', '-node');
    assert.equal(ds.spec.template.spec.hostNetwork, true);
    assert.deepEqual(
      [...ds.spec.template.spec.initContainers, ...ds.spec.template.spec.containers].map((c: any) => c.name),
      ['node-init', 'install-cni', 'felix', 'confd', 'tunnel-addrs', 'monitor-addresses', 'status-reporter', 'cni-daemon', 'bird'],
    );
    assert.deepEqual(container(ds, 'tunnel-addrs').command, ['cattail', 'node', 'allocate-tunnel-addrs']);
    // The address monitor re-runs node-init's address step: the same settings, and the poll interval.
    const monitor = container(ds, 'monitor-addresses');
    assert.deepEqual(monitor.command, ['cattail', 'node', 'monitor-addresses']);
    const monitorEnv = Object.fromEntries(monitor.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    assert.equal(monitorEnv.AUTODETECT_POLL_INTERVAL, '60s');
    assert.equal(loadStartupConfig({ NODENAME: 'n1', ...monitorEnv }).ipv4.kind, 'autodetect');
    // node-init's env is calico/node's, and the start-up accepts every value the chart renders.
    const init = ds.spec.template.spec.initContainers.find((c: any) => c.name === 'node-init');
    assert.deepEqual(init.command, ['cattail', 'node', 'init']);
    const initEnv = Object.fromEntries(init.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    const startup = loadStartupConfig({ NODENAME: 'n1', ...initEnv });
    assert.equal(startup.ipv4.kind, 'autodetect');
    assert.equal(startup.pools.v4?.blockSize, 26);
    assert.equal(startup.pools.v6, undefined, 'IPv6 off by default, as in Calico');
    assert.deepEqual(container(ds, 'felix').command, ['cattail', 'felix']);
    assert.deepEqual(container(ds, 'confd').command, ['cattail', 'confd']);
    const felixNames = knownNames('FELIX_', FELIX_PARAMS);
    const felixEnv = envOf(container(ds, 'felix'));
    for (const name of felixEnv.keys()) if (name !== 'NODENAME') assert.ok(felixNames.has(name), `Felix reads ${name}`);
    assert.equal(felixEnv.get('FELIX_TYPHAK8SSERVICENAME'), svc.metadata.name);
    assert.equal(felixEnv.get('FELIX_TYPHACN'), 'cattail-typha');
    for (const [name, prefix] of [
      ['felix', 'FELIX_'],
      ['confd', 'CONFD_'],
      ['cni-daemon', 'CNI_DAEMON_'],
    ] as const) {
      const c = container(ds, name);
      const probe = c.livenessProbe.httpGet;
      assert.equal(probe.host, envOf(c).get(`${prefix}HEALTHHOST`), `${name} is probed where it listens`);
      assert.equal(String(probe.port), envOf(c).get(`${prefix}HEALTHPORT`));
    }
    const confdEnv = envOf(container(ds, 'confd'));
    const confdNames = new Set([...knownNames('CONFD_', CONFD_PARAMS), ...felixNames]);
    for (const name of confdEnv.keys()) if (name !== 'NODENAME') assert.ok(confdNames.has(name), `confd reads ${name}`);
    loadConfdConfig({ ...Object.fromEntries(confdEnv), NODENAME: 'node-1' });

    // The CNI daemon: every CNI_DAEMON_ name is one it reads, on the socket the shim dials by
    // default; the host paths it needs, the pod netns mounts propagated into it, and the CNI
    // config directory at the host's own path (the netconf names files there by host path).
    const cniDaemon = container(ds, 'cni-daemon');
    assert.deepEqual(cniDaemon.command, ['cattail', 'cni-daemon']);
    const cniDaemonEnv = envOf(cniDaemon);
    const cniDaemonNames = knownNames('CNI_DAEMON_', CNI_DAEMON_PARAMS);
    for (const name of cniDaemonEnv.keys()) assert.ok(cniDaemonNames.has(name), `the CNI daemon reads ${name}`);
    const daemonConfig = loadCniDaemonConfig(Object.fromEntries(cniDaemonEnv));
    assert.equal(daemonConfig.Socket, DEFAULT_DAEMON_SOCKET);
    assert.equal(cniDaemon.readinessProbe.httpGet.path, '/readiness');
    const mounts = new Map(cniDaemon.volumeMounts.map((m: any) => [m.mountPath, m]));
    const hostPathOf = (volume: string) => ds.spec.template.spec.volumes.find((v: any) => v.name === volume)?.hostPath?.path;
    assert.equal(hostPathOf((mounts.get('/var/run/cattail') as any).name), '/var/run/cattail');
    const netnsMount = mounts.get('/var/run/netns') as any;
    assert.equal(hostPathOf(netnsMount.name), '/var/run/netns');
    assert.equal(netnsMount.mountPropagation, 'HostToContainer');
    assert.equal(hostPathOf((mounts.get('/etc/cni/net.d') as any).name), '/etc/cni/net.d');

    // The conflist install-cni writes is one the plugin accepts, as the runtime hands it over.
    const cm = find(objs, 'ConfigMap', '-node-cni');
    const conflist = JSON.parse(cm.data.conflist);
    assert.equal(conflist.plugins.length, 1);
    const conf = parseNetConf({ cniVersion: conflist.cniVersion, name: conflist.name, ...conflist.plugins[0] });
    assert.equal(conf.datastoreType, 'kubernetes');

    const kc = find(objs, 'Deployment', '-kube-controllers');
    assert.equal(kc.spec.replicas, 1);
    assert.deepEqual(container(kc, 'kube-controllers').command, ['cattail', 'kube-controllers']);
    assert.equal(envOf(container(kc, 'kube-controllers')).get('LEADER_ELECTION'), 'true');

    // One image for every container.
    const images = new Set(
      objs
        .filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
        .flatMap((o: any) => [...(o.spec.template.spec.initContainers ?? []), ...o.spec.template.spec.containers].map((c: any) => c.image)),
    );
    assert.deepEqual([...images], ['cattail/cattail:0.1.0']);
  });

  test('node.ip fixed and node.ip6 none: no address monitor (nothing to detect again)', async () => {
    const ds = find(await render(['node.ip=10.0.0.5/24']), 'DaemonSet', '-node');
    assert.ok(!ds.spec.template.spec.containers.some((c: any) => c.name === 'monitor-addresses'));
    const again = find(await render(['node.ip=none', 'node.ip6=autodetect']), 'DaemonSet', '-node');
    assert.ok(
      again.spec.template.spec.containers.some((c: any) => c.name === 'monitor-addresses'),
      'IPv6 autodetect alone runs it',
    );
  });

  test('node.cni.daemon.enabled=false: no cni-daemon container and no host paths for it; install-cni still installs the shim and the direct plugin', async () => {
    const objs = await render(['node.cni.daemon.enabled=false']);
    const ds = find(objs, 'DaemonSet', '-node');
    assert.deepEqual(
      ds.spec.template.spec.containers.map((c: any) => c.name),
      ['felix', 'confd', 'tunnel-addrs', 'monitor-addresses', 'status-reporter', 'bird'],
    );
    const volumes = ds.spec.template.spec.volumes.map((v: any) => v.name);
    assert.ok(!volumes.includes('cni-daemon-run') && !volumes.includes('host-netns'), volumes.join(','));
    const script = find(objs, 'ConfigMap', '-node-cni').data['install-cni.sh'] as string;
    assert.ok(script.indexOf('install_bin "$direct" cattail-cni-direct') < script.indexOf('install_bin "$plugin" cattail-cni'), 'the fallback first');
  });

  test('typha replicas: one per 200 nodes plus two, or the value given', async () => {
    const replicas = async (sets: string[]) => find(await render(sets), 'Deployment', '-typha').spec.replicas;
    assert.equal(await replicas(['typha.expectedNodes=1000']), 7);
    assert.equal(await replicas(['typha.expectedNodes=201']), 4);
    assert.equal(await replicas(['typha.replicas=1']), 1);
  });

  test('etcd datastore, TLS off and a ServiceMonitor', async () => {
    const objs = await render([
      'datastore=etcd',
      'etcd.endpoints={https://10.0.0.10:2379}',
      'etcd.tls.secretName=etcd-client',
      'tls.enabled=false',
      'typha.serviceMonitor.enabled=true',
    ]);
    assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0, 'no generated TLS');
    find(objs, 'ServiceMonitor', '-typha');
    const env = envOf(container(find(objs, 'Deployment', '-typha'), 'typha'));
    assert.equal(env.get('TYPHA_DATASTORETYPE'), 'etcdv3');
    assert.equal(env.get('TYPHA_ETCDENDPOINTS'), 'https://10.0.0.10:2379');
    assert.equal(env.get('TYPHA_CAFILE'), undefined);
    const config = loadTyphaConfig(Object.fromEntries(env));
    assert.equal(config.EtcdCaFile, '/etc/cattail/etcd/ca.crt');
    const conflist = JSON.parse(find(objs, 'ConfigMap', '-node-cni').data.conflist);
    const conf = parseNetConf({ cniVersion: conflist.cniVersion, name: conflist.name, ...conflist.plugins[0] });
    assert.equal(conf.datastoreType, 'etcdv3');
    // No Kubernetes-datastore RBAC for Typha in etcd mode.
    assert.equal(objs.filter((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith('-typha')).length, 0);
  });

  test('a value the schema forbids fails helm template with a message naming it', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['typha.replicas=-1'], /\/typha\/replicas.*minimum/],
      [['datastore=foo'], /\/datastore.*kubernetes.*etcd/],
      [['datastore=etcd'], /\/etcd\/endpoints.*minItems/],
      [['typha.prot=1'], /additional properties 'prot' not allowed/],
      [['image.pullPolicy=Sometimes'], /\/image\/pullPolicy/],
      [['tls.typhaSecretName=mine'], /tls.typhaSecretName and tls.nodeSecretName go together/],
    ];
    for (const [sets, message] of cases) {
      const res = await helm(['template', 'cattail', CHART_DIR, ...sets.flatMap((s) => ['--set', s])]);
      assert.notEqual(res.code, 0, `${sets.join(' ')} must fail`);
      assert.match(res.stderr, message);
    }
  });

  test('crds/ holds exactly the CRDs api/ generates (npm run crds copies them)', () => {
    const generated = join(REPO_ROOT, 'api', 'crds');
    const chart = join(CHART_DIR, 'crds');
    const names = readdirSync(generated).sort();
    assert.deepEqual(readdirSync(chart).sort(), names);
    for (const name of names)
      assert.equal(readFileSync(join(chart, name), 'utf8'), readFileSync(join(generated, name), 'utf8'), `${name} differs: run npm run crds`);
  });

  test('the README documents every value', async () => {
    const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
    const values = JSON.parse(await helmOk(['show', 'values', CHART_DIR, '--jsonpath', '{}'])) as Record<string, unknown>;
    const leaves: string[] = [];
    const walk = (prefix: string, v: unknown): void => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 && !/(nodeSelector|labels|env|resources)$/.test(prefix)) {
        for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
      } else leaves.push(prefix);
    };
    walk('', values);
    for (const key of leaves) assert.ok(readme.includes(`\`${key}\``), `README.md documents ${key}`);
  });
});
