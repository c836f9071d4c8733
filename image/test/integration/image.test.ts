// The cattail image, built for real (debootstrap base, Node, the packages, the SEA CNI binary)
// and checked from the outside:
//   - building it twice gives the same digests (a reproducible build);
//   - the archive is a valid OCI image layout: every blob's sha256 and size, media types, the
//     ref name the chart asks for (`cattail/cattail:<appVersion>`), the run config;
//   - GNU tar unpacks its layers into a rootfs where runc (a generated OCI runtime spec,
//     read-only root, its own namespaces) runs `cattail version`, `bird --version`,
//     `nft --version`, `ip -V`, `sysctl --version` and the shell tools install-cni.sh uses;
//   - the chart's install-cni script, run in the image under runc with the DaemonSet's mounts,
//     installs the shim, the direct plugin, conflist and kubeconfig into a host directory;
//   - the CNI binaries taken out of the image run on this host with no Node on PATH and no
//     daemon: the shim (static Go) falls back to the standalone cattail-cni-direct beside it,
//     for VERSION, and ADD then DEL of a pod in network namespaces the test creates, against
//     real etcd.
// The first run on a machine makes the base rootfs with debootstrap (a few minutes); later runs
// reuse it from ~/.cache/cattail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { EtcdDatastore } from '@cattail/datastore';
import { exposeLoopbackPorts, startEtcd } from '@cattail/datastore/testing';
import { buildCattailImage, imageVersion, REPO_ROOT } from '../../src/build.js';
import { listBlobs, MEDIA_TYPE, verifyOciLayout } from '../../src/oci.js';

const execFileP = promisify(execFile);

async function requireTools(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the image test needs root (debootstrap, runc, network namespaces): run it as root');
  for (const [tool, pkg] of [
    ['debootstrap', 'debootstrap'],
    ['runc', 'runc'],
    ['strip', 'binutils'],
    ['tar', 'tar'],
    ['ip', 'iproute2'],
    ['nsenter', 'util-linux'],
  ]) {
    const found = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(join(d, tool)));
    if (!found) throw new Error(`the image test needs \`${tool}\`: apt-get install ${pkg} (npm run setup installs it)`);
  }
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runProc(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 120_000} ms; stderr:\n${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

test('the cattail image: a valid OCI archive whose tools run under runc, and a CNI binary that runs without Node', { timeout: 1_800_000 }, async (t) => {
  await requireTools();
  const work = await mkdtemp(join(tmpdir(), 'cattail-image-test-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const version = imageVersion();
  const chart = await readFile(join(REPO_ROOT, 'helm', 'cattail', 'Chart.yaml'), 'utf8');
  assert.equal(/^appVersion:\s*"?([^"\s]+)"?/m.exec(chart)?.[1], version, 'the chart runs cattail/cattail:<appVersion>: it must be the image version');

  const out = join(work, 'cattail.oci.tar');
  const img = await buildCattailImage({ out, log: (m) => t.diagnostic(m) });
  t.diagnostic(`archive ${(await stat(out)).size} bytes, ${img.layers.length} layers`);

  await t.test('a second build gives the same image, digest for digest', async () => {
    const again = await buildCattailImage({ out: join(work, 'again.oci.tar') });
    assert.deepEqual(
      again.layers.map((l) => l.digest),
      img.layers.map((l) => l.digest),
    );
    assert.equal(again.manifestDigest, img.manifestDigest);
    await rm(join(work, 'again.oci.tar'));
  });

  await t.test('the archive is an OCI image layout that holds together', async () => {
    const layout = join(work, 'layout');
    await mkdir(layout);
    await execFileP('tar', ['-xf', out, '-C', layout]);
    const v = await verifyOciLayout(layout);
    assert.equal(v.refName, `cattail/cattail:${version}`);
    assert.equal(v.manifestDigest, img.manifestDigest);
    assert.equal(v.layers.length, 4);
    for (const l of v.layers) assert.equal(l.mediaType, MEDIA_TYPE.layerGzip);
    assert.deepEqual(
      (await listBlobs(layout)).sort(),
      [img.manifestDigest, img.configDigest, ...img.layers.map((l) => l.digest)].sort(),
      'no blob missing or left over',
    );
    assert.equal(v.config.os, 'linux');
    assert.deepEqual(v.config.config.Entrypoint, ['/usr/local/bin/cattail']);
    assert.equal(v.config.config.WorkingDir, '/');
    assert.ok((v.config.config.Env as string[]).some((e) => e.startsWith('PATH=') && e.includes('/usr/local/bin')));
  });

  // The rootfs, as a runtime unpacks it: the layers in order, by GNU tar.
  const bundle = join(work, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  await mkdir(rootfs, { recursive: true });
  for (const l of img.layers) {
    await execFileP('tar', ['-xzf', join(work, 'layout', 'blobs', 'sha256', l.digest.slice(7)), '-C', rootfs, '--numeric-owner', '-p']);
  }
  const config = (await verifyOciLayout(join(work, 'layout'))).config.config;

  // runc with a generated runtime spec: the image's Env, a read-only root (as the chart runs
  // Typha and kube-controllers) with a writable /tmp (the etcd client writes its embedded protos
  // there; in a pod that is an emptyDir), its own namespaces.
  await execFileP('runc', ['spec', '--bundle', bundle]);
  const baseSpec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'));
  baseSpec.root = { path: 'rootfs', readonly: true };
  baseSpec.process.terminal = false;
  baseSpec.process.cwd = '/';
  baseSpec.hostname = 'cattail-image-test';
  baseSpec.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=64m'] });
  const state = join(work, 'runc-state');
  const inContainer = async (args: string[], extra: { env?: string[]; binds?: Array<[string, string, boolean]> } = {}): Promise<Ran> => {
    const spec = structuredClone(baseSpec);
    spec.process.args = args;
    spec.process.env = [...(config.Env as string[]), ...(extra.env ?? [])];
    for (const [source, destination, readonly] of extra.binds ?? []) {
      spec.mounts.push({ destination, type: 'bind', source, options: ['rbind', readonly ? 'ro' : 'rw'] });
    }
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    const id = `cattail-image-${randomBytes(4).toString('hex')}`;
    try {
      return await runProc('runc', ['--root', state, 'run', '--bundle', bundle, id], { timeoutMs: 120_000 });
    } finally {
      await runProc('runc', ['--root', state, 'delete', '--force', id]).catch(() => undefined);
    }
  };

  await t.test('inside the image, under runc: cattail, BIRD, nft, ip, sysctl and the shell tools', async () => {
    const ver = await inContainer(['cattail', 'version']);
    assert.match(ver.stdout, new RegExp(`^Client Version:\\s+v${version.replace(/\./g, '\\.')}$`, 'm'), `cattail version: ${ver.stdout}${ver.stderr}`);
    // No datastore in the container: the CLI got as far as dialling etcd (all its modules loaded).
    assert.equal(ver.code, 1);
    assert.match(ver.stderr, /cannot reach etcd/);
    const help = await inContainer(['cattail', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /kube-controllers|typha/);
    const bird = await inContainer(['bird', '--version']);
    assert.equal(bird.code, 0, bird.stderr);
    assert.match(bird.stdout + bird.stderr, /^BIRD version 2\.\d+/m);
    const nft = await inContainer(['nft', '--version']);
    assert.equal(nft.code, 0, nft.stderr);
    assert.match(nft.stdout, /^nftables v1\.\d+/);
    const ip = await inContainer(['ip', '-V']);
    assert.equal(ip.code, 0, ip.stderr);
    assert.match(ip.stdout, /^ip utility, iproute2-/);
    const sysctl = await inContainer(['sysctl', '--version']);
    assert.equal(sysctl.code, 0, sysctl.stderr);
    assert.match(sysctl.stdout, /procps-ng/);
    // What the chart's install-cni.sh and bird container run besides cattail.
    const sh = await inContainer([
      'sh',
      '-c',
      'for c in base64 cp mv sed mkdir chmod cat sleep birdc; do command -v $c >/dev/null || echo "missing $c"; done; test -x /opt/cattail/cni/cattail-cni && test -x /opt/cattail/cni/cattail-cni-direct && echo ok',
    ]);
    assert.equal(sh.stdout.trim(), 'ok', sh.stdout + sh.stderr);
  });

  await t.test("the chart's install-cni init container, run in the image, installs a plugin that runs on the host", async () => {
    // The ConfigMap the chart renders (default values: the Kubernetes datastore), its script
    // run as the init container runs it: the host's CNI directories and the ServiceAccount
    // mounted where the DaemonSet mounts them.
    const helm = join(REPO_ROOT, '.tools', 'bin', 'helm');
    if (!existsSync(helm)) throw new Error(`${helm} is missing: run npm run setup (it builds helm)`);
    const rendered = (await execFileP(helm, ['template', 'cattail', join(REPO_ROOT, 'helm', 'cattail'), '--show-only', 'templates/node-cni-config.yaml']))
      .stdout;
    const cm = parseYaml(rendered) as { data: Record<string, string> };
    const dir = join(work, 'install-cni');
    const host = join(dir, 'host');
    for (const d of ['config', 'sa', 'host/opt/cni/bin', 'host/etc/cni/net.d']) await mkdir(join(dir, d), { recursive: true });
    await writeFile(join(dir, 'config', 'conflist'), cm.data.conflist);
    await writeFile(join(dir, 'config', 'install-cni.sh'), cm.data['install-cni.sh']);
    await writeFile(join(dir, 'sa', 'token'), 'image-test-token');
    await writeFile(join(dir, 'sa', 'ca.crt'), '-----BEGIN CERTIFICATE-----\nimage-test\n-----END CERTIFICATE-----\n');
    const res = await inContainer(['sh', '/etc/cattail/cni/install-cni.sh'], {
      env: ['NODENAME=img-node-1', 'KUBERNETES_SERVICE_HOST=10.96.0.1', 'KUBERNETES_SERVICE_PORT=443'],
      binds: [
        [join(host, 'opt', 'cni', 'bin'), '/host/opt/cni/bin', false],
        [join(host, 'etc', 'cni', 'net.d'), '/host/etc/cni/net.d', false],
        [join(dir, 'config'), '/etc/cattail/cni', true],
        [join(dir, 'sa'), '/var/run/secrets/kubernetes.io/serviceaccount', true],
      ],
    });
    assert.equal(res.code, 0, `install-cni.sh: ${res.stdout}${res.stderr}`);
    const installed = join(host, 'opt', 'cni', 'bin', 'cattail-cni');
    for (const name of ['cattail-cni', 'cattail-cni-direct']) {
      const file = join(host, 'opt', 'cni', 'bin', name);
      assert.equal((await stat(file)).mode & 0o777, 0o755);
      assert.ok((await readFile(file)).equals(await readFile(join(rootfs, 'opt', 'cattail', 'cni', name))), `the image’s ${name}, byte for byte`);
    }
    assert.deepEqual((await readdir(join(host, 'opt', 'cni', 'bin'))).sort(), ['cattail-cni', 'cattail-cni-direct'], 'no temporary file left');
    const conflist = JSON.parse(await readFile(join(host, 'etc', 'cni', 'net.d', '10-cattail.conflist'), 'utf8'));
    assert.equal(conflist.plugins[0].nodename, 'img-node-1');
    const kubeconfig = await readFile(join(host, 'etc', 'cni', 'net.d', 'cattail-kubeconfig'), 'utf8');
    assert.match(kubeconfig, /server: https:\/\/10\.96\.0\.1:443/);
    assert.match(kubeconfig, /token: image-test-token/);
    assert.ok(
      kubeconfig.includes(Buffer.from('-----BEGIN CERTIFICATE-----\nimage-test\n-----END CERTIFICATE-----\n').toString('base64')),
      'the CA, base64 by the image’s coreutils',
    );
    // The plugin as installed on the host answers, with no Node on PATH: the shim, finding no
    // daemon (a socket path nobody serves), hands VERSION to the direct plugin beside it.
    const noDaemon = { CNI_COMMAND: 'VERSION', CATTAIL_CNI_DAEMON_SOCKET: join(work, 'no-daemon.sock') };
    const ver = await runProc(installed, [], { env: noDaemon, input: '{"cniVersion":"1.0.0"}' });
    assert.equal(ver.code, 0, ver.stderr);
    assert.equal(JSON.parse(ver.stdout).cniVersion, '1.0.0');
  });

  await t.test("the image's shim, with no daemon, runs its cattail-cni-direct on the host without Node: VERSION, ADD, DEL", async (t2) => {
    const bin = join(work, 'cni-bin');
    await mkdir(bin);
    const plugin = join(bin, 'cattail-cni');
    for (const name of ['cattail-cni', 'cattail-cni-direct']) {
      await copyFile(join(rootfs, 'opt', 'cattail', 'cni', name), join(bin, name));
      await chmod(join(bin, name), 0o755);
      assert.equal((await readFile(join(bin, name))).subarray(0, 4).toString('latin1'), '\x7fELF', `${name}: an executable, not a script`);
    }
    // PATH holds only what the plugin execs (ip, nsenter): no node anywhere on it.
    for (const tool of ['ip', 'nsenter']) {
      const dir = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].find((d) => existsSync(join(d, tool)))!;
      await symlink(join(dir, tool), join(bin, tool));
    }
    assert.deepEqual((await readdir(bin)).sort(), ['cattail-cni', 'cattail-cni-direct', 'ip', 'nsenter']);
    const noDaemon = join(work, 'no-daemon.sock');

    const ver = await runProc(plugin, [], { env: { CNI_COMMAND: 'VERSION', CATTAIL_CNI_DAEMON_SOCKET: noDaemon }, input: '{"cniVersion":"1.0.0"}' });
    assert.equal(ver.code, 0, ver.stderr);
    const verJson = JSON.parse(ver.stdout);
    assert.equal(verJson.cniVersion, '1.0.0');
    assert.ok(verJson.supportedVersions.includes('1.0.0') && verJson.supportedVersions.includes('0.4.0'), ver.stdout);

    const etcd = await startEtcd();
    t2.after(() => etcd.stop());
    const ds = new EtcdDatastore(etcd.clientOptions());
    t2.after(() => ds.close());
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'img-node' }, spec: {} });
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'img-pool' }, spec: { cidr: '10.77.0.0/16', blockSize: 26 } });
    const prefix = `cimg-${randomBytes(3).toString('hex')}`;
    const nodeNs = `${prefix}-node`;
    const podNs = `${prefix}-pod`;
    for (const ns of [nodeNs, podNs]) {
      await execFileP('ip', ['netns', 'add', ns]);
      t2.after(() =>
        execFileP('ip', ['netns', 'del', ns]).then(
          () => undefined,
          () => undefined,
        ),
      );
      await execFileP('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const relay = await exposeLoopbackPorts(nodeNs, [Number(new URL(etcd.clientUrl).port)], { timeoutMs: 120_000 });
    t2.after(() => relay.close());
    const conf = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'cattail-cni',
      nodename: 'img-node',
      datastore_type: 'etcdv3',
      etcd_endpoints: etcd.clientUrl,
      log_level: 'warning',
      ipam: { type: 'cattail-ipam', assign_ipv4: 'true', assign_ipv6: 'false', ipv4_pools: ['10.77.0.0/16'] },
    });
    const cniEnv = (command: string): NodeJS.ProcessEnv => ({
      PATH: bin,
      CATTAIL_CNI_DAEMON_SOCKET: noDaemon,
      CNI_COMMAND: command,
      CNI_CONTAINERID: 'feedbeef01',
      CNI_NETNS: `/var/run/netns/${podNs}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: bin,
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=img;K8S_POD_NAME=pod-0',
    });
    // The plugin runs in the node namespace, as a runtime on that node would run it.
    const inNode = (command: string): Promise<Ran> =>
      runProc('ip', ['netns', 'exec', nodeNs, plugin], { env: cniEnv(command), input: conf, timeoutMs: 300_000 });

    const add = await inNode('ADD');
    assert.equal(add.code, 0, `ADD: ${add.stdout}\n${add.stderr}`);
    const result = JSON.parse(add.stdout);
    assert.match(result.ips[0].address, /^10\.77\.\d+\.\d+\/32$/);
    const addr = result.ips[0].address.split('/')[0];
    const podAddrs = (await execFileP('ip', ['-n', podNs, '-j', 'addr', 'show', 'dev', 'eth0'])).stdout;
    assert.ok(podAddrs.includes(`"${addr}"`), `the pod's eth0 has ${addr}: ${podAddrs}`);
    const weps = await ds.list('WorkloadEndpoint');
    assert.equal(weps.items.length, 1, 'ADD wrote the WorkloadEndpoint');

    const del = await inNode('DEL');
    assert.equal(del.code, 0, `DEL: ${del.stdout}\n${del.stderr}`);
    const links = (await execFileP('ip', ['-n', podNs, '-j', 'link', 'show'])).stdout;
    assert.ok(!links.includes('"eth0"'), `DEL removed the pod's eth0: ${links}`);
    assert.equal((await ds.list('WorkloadEndpoint')).items.length, 0, 'DEL removed the WorkloadEndpoint');
  });
});
