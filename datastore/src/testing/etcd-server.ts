/**
 * A real, private etcd for tests: `startEtcd()` spawns the installed etcd on free loopback
 * ports with a fresh temp dir, waits until it answers, and hands back its endpoints and
 * controls (stop, kill with a signal, restart on the same ports and data).
 *
 * Many test files run this at once, so nothing is shared: ports come from binding port 0 (and
 * a start that loses the race for a port retries with new ones), each server has its own
 * mkdtemp dir, and only our own child pid is ever signalled. Readiness is polled with the real
 * client (Status), bounded, never a fixed sleep. A crashed test run leaves no etcd behind: an
 * 'exit' hook SIGKILLs live children, and SIGINT/SIGTERM hooks do the same before letting the
 * signal take its default course (child-reaper.ts).
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { EtcdClient } from '../etcd/client.js';
import type { EtcdClientOptions } from '../etcd/options.js';
import { forgetDir, logTail, removeOnExit, spawnServer } from './child-reaper.js';
import { EtcdNotFoundError, EtcdStartError } from './errors.js';
import { makeTestCertificates, type TlsFiles } from './tls-certs.js';

const runFile = promisify(execFile);

export interface StartEtcdOptions {
  /** Serve clients over TLS with client-certificate checks; certificates are generated. */
  tls?: boolean;
  /** Create user root (role root) with this password and enable auth. */
  auth?: { password: string };
  /** etcd's --grpc-keepalive-min-time in ms (default etcd's 5000); lower it to test fast client pings. */
  grpcKeepaliveMinTimeMs?: number;
  /** Upper bound for etcd to answer after spawning. Default 20000. */
  startTimeoutMs?: number;
}

export interface EtcdServer {
  readonly endpoints: string[];
  readonly clientUrl: string;
  readonly dataDir: string;
  /** Pid of the current etcd process (changes on restart). */
  readonly pid: number;
  readonly tls: TlsFiles | undefined;
  readonly auth: { username: string; password: string } | undefined;
  /** Options for an EtcdClient that can talk to this server (endpoints, TLS, credentials). */
  clientOptions(): EtcdClientOptions;
  /** SIGTERM (SIGKILL after 5 s) our etcd, wait for it, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Sends `signal` to our etcd only (SIGSTOP freezes it: connections stay open but silent). */
  kill(signal?: NodeJS.Signals): void;
  /** Kills our etcd if alive and starts it again on the same ports and data dir. */
  restart(): Promise<void>;
  /** Runs etcdctl against this server (endpoint, TLS and root credentials filled in); resolves to stdout. */
  etcdctl(...args: string[]): Promise<string>;
}

const NOT_FOUND = 'etcd not found: run `bash scripts/setup.sh` (installs Debian etcd-server)';

export function findBinary(name: string): string | undefined {
  const candidates = [
    `/usr/bin/${name}`,
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((d) => join(d, name)),
  ];
  for (const c of candidates) {
    try {
      accessSync(c, fsConstants.X_OK);
      return c;
    } catch {
      // not here; try the next
    }
  }
  return undefined;
}

export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  const binary = findBinary('etcd');
  if (binary === undefined) throw new EtcdNotFoundError(NOT_FOUND);
  const root = await mkdtemp(join(tmpdir(), 'cattail-etcd-'));
  removeOnExit(root);
  const server = new EtcdProcess(binary, root, options);
  try {
    await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

class EtcdProcess implements EtcdServer {
  readonly dataDir: string;
  tls: TlsFiles | undefined;
  auth: { username: string; password: string } | undefined;
  #binary: string;
  #root: string;
  #options: StartEtcdOptions;
  #clientPort = 0;
  #peerPort = 0;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(binary: string, root: string, options: StartEtcdOptions) {
    this.#binary = binary;
    this.#root = root;
    this.#options = options;
    this.dataDir = join(root, 'data');
  }

  /**
   * With TLS the URL names `localhost` (also in the certificate): Node deprecates TLS server
   * names that are IP addresses and would warn on every run.
   */
  get clientUrl(): string {
    return this.tls ? `https://localhost:${this.#clientPort}` : `http://127.0.0.1:${this.#clientPort}`;
  }

  get endpoints(): string[] {
    return [this.clientUrl];
  }

  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  clientOptions(): EtcdClientOptions {
    const o: EtcdClientOptions = { endpoints: this.endpoints };
    if (this.tls) Object.assign(o, { ca: this.tls.ca, cert: this.tls.clientCert, key: this.tls.clientKey });
    if (this.auth) Object.assign(o, { username: this.auth.username, password: this.auth.password });
    return o;
  }

  async start(): Promise<void> {
    if (this.#options.tls) {
      const dir = join(this.#root, 'tls');
      await mkdir(dir);
      this.tls = await makeTestCertificates(dir);
    }
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      this.#clientPort = await freePort();
      this.#peerPort = await freePort();
      try {
        await this.#spawnAndWait('new');
        lastError = undefined;
        break;
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
        await this.#killAndWait();
        // Another test grabbed a port between our probe and etcd's bind: new ports, clean dir.
        if (!lastError.message.includes('address already in use')) throw err;
        await rm(this.dataDir, { recursive: true, force: true });
      }
    }
    if (lastError !== undefined) throw lastError;
    if (this.#options.auth) await this.#enableAuth(this.#options.auth.password);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    const child = this.#child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill(signal);
  }

  async restart(): Promise<void> {
    if (this.#stopped) throw new EtcdStartError('etcd test server: restart() after stop()');
    await this.#killAndWait();
    await this.#spawnAndWait('existing');
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const child = this.#child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(timer);
    }
    await rm(this.#root, { recursive: true, force: true });
    forgetDir(this.#root);
  }

  async #killAndWait(): Promise<void> {
    this.kill('SIGKILL');
    await this.#exited;
  }

  async #spawnAndWait(clusterState: 'new' | 'existing'): Promise<void> {
    const listen = `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.#clientPort}`;
    const peer = `http://127.0.0.1:${this.#peerPort}`;
    const args = [
      '--name',
      'cattail-test',
      '--data-dir',
      this.dataDir,
      '--listen-client-urls',
      listen,
      '--advertise-client-urls',
      this.clientUrl,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `cattail-test=${peer}`,
      '--initial-cluster-state',
      clusterState,
      '--initial-cluster-token',
      `cattail-${process.pid}-${this.#clientPort}`,
      '--logger',
      'zap',
      '--log-outputs',
      'stderr',
      '--log-level',
      'warn',
    ];
    if (this.#options.grpcKeepaliveMinTimeMs !== undefined) {
      args.push('--grpc-keepalive-min-time', `${this.#options.grpcKeepaliveMinTimeMs}ms`);
    }
    if (this.tls) {
      args.push('--cert-file', this.tls.serverCertFile, '--key-file', this.tls.serverKeyFile);
      args.push('--trusted-ca-file', this.tls.caFile, '--client-cert-auth');
    }
    const logFile = join(this.#root, 'etcd.log');
    const server = spawnServer(this.#binary, args, logFile);
    this.#child = server.child;
    this.#exited = server.exited;
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 20_000);
    const probe = new EtcdClient({ ...this.clientOptions(), dialTimeoutMs: 500, requestTimeoutMs: 1000 });
    try {
      for (;;) {
        if (server.exitInfo() !== undefined) {
          throw new EtcdStartError(`etcd exited during start (${server.exitInfo()}); log tail:\n${logTail(logFile)}`);
        }
        try {
          // Answering is not enough: writes block until the single member has elected itself.
          if ((await probe.status()).leader !== '0') return;
        } catch (err) {
          if (Date.now() > deadline) {
            throw new EtcdStartError(`etcd did not answer within the start timeout; log tail:\n${logTail(logFile)}`, { cause: err });
          }
        }
        if (Date.now() > deadline) {
          throw new EtcdStartError(`etcd elected no leader within the start timeout; log tail:\n${logTail(logFile)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      probe.close();
    }
  }

  async etcdctl(...args: string[]): Promise<string> {
    const etcdctl = findBinary('etcdctl');
    if (etcdctl === undefined) throw new EtcdNotFoundError(`etcdctl not found: ${NOT_FOUND}`);
    const base = [`--endpoints=${this.clientUrl}`, '--dial-timeout=5s', '--command-timeout=10s'];
    if (this.tls) {
      base.push(`--cacert=${this.tls.caFile}`, `--cert=${this.tls.clientCertFile}`, `--key=${this.tls.clientKeyFile}`);
    }
    if (this.auth) base.push(`--user=${this.auth.username}:${this.auth.password}`);
    try {
      const { stdout } = await runFile(etcdctl, [...base, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 20_000 });
      return stdout;
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new EtcdStartError(`etcdctl ${args.slice(0, 2).join(' ')} failed: ${stderr.trim()}`, { cause: err });
    }
  }

  async #enableAuth(password: string): Promise<void> {
    await this.etcdctl('role', 'add', 'root');
    await this.etcdctl('user', 'add', `root:${password}`, '--interactive=false');
    await this.etcdctl('user', 'grant-role', 'root', 'root');
    await this.etcdctl('auth', 'enable');
    this.auth = { username: 'root', password };
  }
}

/** A loopback port the kernel considered free a moment ago (the caller binds it right after and retries a race). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = addr !== null && typeof addr === 'object' ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
