/**
 * A real Kubernetes API server for tests, the ground the Kubernetes-datastore (KDD) backend
 * will be tested on: `startKubeApiServer()` starts a private etcd (startEtcd) and a
 * kube-apiserver on free loopback ports, with fresh certificates in a temp dir, waits for
 * `/readyz`, writes a kubeconfig, and hands back the URL, the client TLS files and a `kubectl`
 * helper.
 *
 *   test ──https (admin client cert, O=system:masters)──▶ kube-apiserver ──http──▶ etcd
 *   kubectl --kubeconfig <tmp>/kubeconfig ──────────────▶      127.0.0.1:<free>      127.0.0.1:<free>
 *
 * The binaries are the ones `npm run setup` builds from tools/kube (kube-apiserver and kubectl
 * of the pinned version, linked under .tools/bin); on PATH is the fallback. When neither has
 * them, the start fails with KUBE_NOT_FOUND naming `npm run setup`: a test that needs the
 * API server never skips itself quietly.
 *
 * Only the API server runs: no controller manager, scheduler or kubelet. What that means for a
 * test, which would otherwise learn it the slow way:
 *   - nothing creates a namespace's `default` ServiceAccount, and the ServiceAccount admission
 *     plugin refuses pods without one: create namespaces with `ensureNamespace`, which makes
 *     both;
 *   - a deleted namespace stays Terminating forever (the namespace controller empties and
 *     finalizes it): use a fresh namespace name per test instead of deleting and re-creating;
 *   - pods stay Pending, and no Endpoints are kept for the `kubernetes` Service
 *     (`--endpoint-reconciler-type=none`: one API server, nothing to reconcile).
 *
 * Isolation and cleanup are etcd's (etcd-server.ts): a port race retries with new ports,
 * every server has its own mkdtemp dir, only our own child pids are signalled, and a crashed
 * test run leaves no process behind (child-reaper.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forgetDir, logTail, removeOnExit, spawnServer } from './child-reaper.js';
import { findBinary, freePort, startEtcd, type EtcdServer } from './etcd-server.js';
import { KubeNotFoundError, KubeStartError } from './errors.js';
import { makeSigningKeyPair, makeTestCertificates, type TlsFiles } from './tls-certs.js';

export interface StartKubeApiServerOptions {
  /** Upper bound for kube-apiserver to report ready after spawning. Default 90000 (ready in ~4 s with its etcd on 2 idle cores). */
  startTimeoutMs?: number;
  /** More kube-apiserver flags (`--feature-gates=…`); a flag given here and by the fixture is given twice, and the last wins. */
  extraArgs?: readonly string[];
}

export interface KubeApiServer {
  /** `https://127.0.0.1:<port>`; the serving certificate also names `localhost`. */
  readonly url: string;
  /** A kubeconfig for the admin (context `cattail-test`), for kubectl and for clients that read one. */
  readonly kubeconfigPath: string;
  readonly caFile: string;
  /** The admin client certificate: CN=cattail-admin, O=system:masters (every RBAC check passes). */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** The same files' contents, for `https.request({ ca, cert, key })`. */
  readonly ca: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  /** Pid of the kube-apiserver process. */
  readonly pid: number;
  /** The API server's own etcd (for compaction or a look at the raw keys under /registry). */
  readonly etcd: EtcdServer;
  /** Runs kubectl against this server; resolves to stdout, rejects with KUBE_START_FAILED carrying stderr. */
  kubectl(args: readonly string[], options?: { input?: string }): Promise<string>;
  /** Creates (or keeps) namespace `name` and its `default` ServiceAccount, which no controller makes here. */
  ensureNamespace(name: string): Promise<void>;
  /** Ends kube-apiserver (SIGTERM, SIGKILL after 5 s), then its etcd, and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Service IPs come from here; the first (10.96.0.1) is the `kubernetes` Service, named in the serving certificate. */
const SERVICE_CIDR = '10.96.0.0/16';
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const KUBECTL_TIMEOUT_MS = 30_000;

/** What builds each binary, for the message when it is missing. */
const KUBE_BINARY_SOURCE = {
  'kube-apiserver': 'it builds kube-apiserver and kubectl from tools/kube',
  kubectl: 'it builds kube-apiserver and kubectl from tools/kube',
  helm: 'it builds helm with go install',
} as const;

/**
 * The path of a Kubernetes binary: `.tools/bin/<name>` of the enclosing checkout (where
 * scripts/setup.sh links the build of tools/kube, and helm), else on PATH.
 */
export function findKubeBinary(name: keyof typeof KUBE_BINARY_SOURCE): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, '.tools', 'bin', name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here; try the parent
    }
    if (dirname(dir) === dir) break;
  }
  const onPath = findBinary(name);
  if (onPath !== undefined) return onPath;
  throw new KubeNotFoundError(`${name} not found in .tools/bin or on PATH: run \`npm run setup\` (${KUBE_BINARY_SOURCE[name]})`);
}

/** What a kube-apiserver of ours needs: serving and admin client certificates, and the service-account signing key pair. */
export interface KubePki {
  tls: TlsFiles;
  serviceAccount: { keyFile: string; publicKeyFile: string };
}

/** Makes the certificates (openssl) in `dir`; the admin is in system:masters. `days`: validity (default 2). */
export async function makeKubePki(dir: string, opts: { days?: number } = {}): Promise<KubePki> {
  await mkdir(dir, { recursive: true });
  const tls = await makeTestCertificates(dir, {
    clientSubject: '/O=system:masters/CN=cattail-admin',
    serverAltNames: ['DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'IP:10.96.0.1'],
    ...(opts.days !== undefined ? { days: opts.days } : {}),
  });
  const serviceAccount = await makeSigningKeyPair(dir, 'service-account');
  return { tls, serviceAccount };
}

/** The flags of a single loopback kube-apiserver on `etcdUrl` (see the module comment for why each). */
export function kubeApiServerArgs(o: { etcdUrl: string; port: number; pki: KubePki; extraArgs?: readonly string[] }): string[] {
  const { tls, serviceAccount: sa } = o.pki;
  return [
    `--etcd-servers=${o.etcdUrl}`,
    `--secure-port=${o.port}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--tls-cert-file=${tls.serverCertFile}`,
    `--tls-private-key-file=${tls.serverKeyFile}`,
    `--client-ca-file=${tls.caFile}`,
    '--authorization-mode=Node,RBAC',
    // One API server and no kube-controller-manager: nobody else keeps the `kubernetes` Endpoints.
    '--endpoint-reconciler-type=none',
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${sa.publicKeyFile}`,
    `--service-account-signing-key-file=${sa.keyFile}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--allow-privileged=true',
    '--profiling=false',
    ...(o.extraArgs ?? []),
  ];
}

/** An admin kubeconfig (JSON is YAML: kubectl and client libraries read it). */
export function adminKubeconfig(url: string, tls: Pick<TlsFiles, 'caFile' | 'clientCertFile' | 'clientKeyFile'>, name = 'cattail-test'): object {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: url, 'certificate-authority': tls.caFile } }],
    users: [{ name: 'cattail-admin', user: { 'client-certificate': tls.clientCertFile, 'client-key': tls.clientKeyFile } }],
    contexts: [{ name, context: { cluster: name, user: 'cattail-admin', namespace: 'default' } }],
    'current-context': name,
  };
}

export async function startKubeApiServer(options: StartKubeApiServerOptions = {}): Promise<KubeApiServer> {
  const binaries = { apiserver: findKubeBinary('kube-apiserver'), kubectl: findKubeBinary('kubectl') };
  const root = await mkdtemp(join(tmpdir(), 'cattail-kube-'));
  removeOnExit(root);
  let etcd: EtcdServer | undefined;
  let server: KubeApiServerProcess | undefined;
  try {
    etcd = await startEtcd();
    const { tls, serviceAccount } = await makeKubePki(join(root, 'pki'));
    server = new KubeApiServerProcess(binaries, root, etcd, tls, serviceAccount, options);
    await server.start();
    return server;
  } catch (err) {
    if (server !== undefined) await server.stop();
    else {
      await etcd?.stop();
      await rm(root, { recursive: true, force: true });
      forgetDir(root);
    }
    throw err;
  }
}

class KubeApiServerProcess implements KubeApiServer {
  readonly kubeconfigPath: string;
  readonly caFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly ca: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  readonly etcd: EtcdServer;
  #binaries: { apiserver: string; kubectl: string };
  #root: string;
  #tls: TlsFiles;
  #serviceAccount: { keyFile: string; publicKeyFile: string };
  #options: StartKubeApiServerOptions;
  #port = 0;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    binaries: { apiserver: string; kubectl: string },
    root: string,
    etcd: EtcdServer,
    tls: TlsFiles,
    serviceAccount: { keyFile: string; publicKeyFile: string },
    options: StartKubeApiServerOptions,
  ) {
    this.#binaries = binaries;
    this.#root = root;
    this.etcd = etcd;
    this.#tls = tls;
    this.#serviceAccount = serviceAccount;
    this.#options = options;
    this.kubeconfigPath = join(root, 'kubeconfig');
    this.caFile = tls.caFile;
    this.clientCertFile = tls.clientCertFile;
    this.clientKeyFile = tls.clientKeyFile;
    this.ca = tls.ca;
    this.clientCert = tls.clientCert;
    this.clientKey = tls.clientKey;
  }

  /** An IP, not `localhost`: Node sends no TLS server name for an IP (so no DEP0123 warning), and the server listens on IPv4 only. */
  get url(): string {
    return `https://127.0.0.1:${this.#port}`;
  }

  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  async start(): Promise<void> {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      this.#port = await freePort();
      try {
        await this.#spawnAndWait();
        lastError = undefined;
        break;
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
        this.#kill('SIGKILL');
        await this.#exited;
        // Another test took the port between our probe and the server's bind: try a new one.
        if (!lastError.message.includes('address already in use')) throw err;
      }
    }
    if (lastError !== undefined) throw lastError;
    await writeFile(this.kubeconfigPath, JSON.stringify(this.#kubeconfig(), null, 2));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const child = this.#child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(timer);
    }
    await this.etcd.stop();
    await rm(this.#root, { recursive: true, force: true });
    forgetDir(this.#root);
  }

  kubectl(args: readonly string[], options: { input?: string } = {}): Promise<string> {
    return runKubectl(this.#binaries.kubectl, ['--kubeconfig', this.kubeconfigPath, ...args], options.input);
  }

  async ensureNamespace(name: string): Promise<void> {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } },
      ],
    };
    await this.kubectl(['apply', '-f', '-'], { input: JSON.stringify(list) });
  }

  #kill(signal: NodeJS.Signals): void {
    const child = this.#child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill(signal);
  }

  #args(): string[] {
    return kubeApiServerArgs({
      etcdUrl: this.etcd.clientUrl,
      port: this.#port,
      pki: { tls: this.#tls, serviceAccount: this.#serviceAccount },
      ...(this.#options.extraArgs ? { extraArgs: this.#options.extraArgs } : {}),
    });
  }

  async #spawnAndWait(): Promise<void> {
    const logFile = join(this.#root, 'kube-apiserver.log');
    const server = spawnServer(this.#binaries.apiserver, this.#args(), logFile);
    this.#child = server.child;
    this.#exited = server.exited;
    const timeoutMs = this.#options.startTimeoutMs ?? 90_000;
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (server.exitInfo() !== undefined) {
        throw new KubeStartError(`kube-apiserver exited during start (${server.exitInfo()}); log tail:\n${logTail(logFile)}`);
      }
      try {
        const res = await this.#get('/readyz', 2000);
        if (res.status === 200) return;
        last = `/readyz answered ${res.status}: ${res.body.slice(-1000)}`;
      } catch (err) {
        last = `/readyz failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (Date.now() > deadline) {
        throw new KubeStartError(`kube-apiserver was not ready within ${timeoutMs} ms (last: ${last}); log tail:\n${logTail(logFile)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** One GET as the admin, for the readiness poll. */
  #get(path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.url}${path}`, { ca: this.ca, cert: this.clientCert, key: this.clientKey, timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  #kubeconfig(): object {
    return adminKubeconfig(this.url, this.#tls);
  }
}

/** Runs kubectl; resolves to stdout, rejects with KubeStartError carrying stderr. */
export function runKubectl(binary: string, args: readonly string[], input: string | undefined): Promise<string> {
  const what = `kubectl ${args.slice(2).join(' ')}`.slice(0, 120);
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: KUBECTL_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (err) => reject(new KubeStartError(`${what}: could not run: ${err.message}`, { cause: err })));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else {
        const how = signal ? `killed by ${signal}${signal === 'SIGTERM' ? ` (over ${KUBECTL_TIMEOUT_MS} ms?)` : ''}` : `exit code ${code}`;
        reject(new KubeStartError(`${what}: ${how}: ${stderr.trim()}`));
      }
    });
    child.stdin.end(input ?? '');
  });
}

/** Who the API server says the bearer of `client`'s credentials is (a SelfSubjectReview): `system:serviceaccount:<ns>:<name>` for a ServiceAccount token. */
export async function whoAmI(client: { request(method: 'POST', path: string, body: unknown): Promise<unknown> }): Promise<string> {
  const review = (await client.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
  })) as { status?: { userInfo?: { username?: string } } } | undefined;
  return review?.status?.userInfo?.username ?? '';
}
