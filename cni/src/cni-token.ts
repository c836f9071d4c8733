/**
 * The CNI kubeconfig's token, kept fresh by the node's CNI daemon, as calico-node's token
 * watcher keeps calico-kubeconfig fresh.
 *
 * install-cni writes the host's CNI kubeconfig once, with the node pod's own ServiceAccount
 * token. That token is bound to the pod: when the node pod is replaced, the direct plugin
 * (`cattail-cni-direct`, the shim's fallback, which reads that file) would hold a dead token
 * until the new pod's install-cni ran. So the daemon asks the TokenRequest API for a token of
 * the same ServiceAccount that is bound to no pod and lives `validitySecs` (24 h, Calico's
 * default), writes it into the kubeconfig, and asks again a quarter of the way to its expiry
 * (Calico's refresh fraction): at any moment the file holds a token with at least 3/4 of its
 * life left while the daemon runs, and one valid for up to 24 h after it stopped.
 *
 *   start ─▶ POST serviceaccounts/<sa>/token {expirationSeconds} ─▶ kubeconfig (tmp + rename, 0600)
 *     ▲        │ fails: again in 5 s, doubling up to 5 min              │
 *     └────────┴──────── (expiry − now) / 4 ◀───────────────────────────┘ + onRefreshed()
 *
 * The ServiceAccount is the one the daemon runs as, read from the `sub` claim of its mounted
 * token (`system:serviceaccount:<namespace>:<name>`); each request authenticates with that
 * mounted token read afresh (the kubelet rotates it). The kubeconfig keeps its server and CA
 * (from the file, or the pod's in-cluster values when there is no file yet) and is written as
 * JSON, which every kubeconfig reader takes.
 */
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inClusterConfig, KubeClient, loadKubeConfig, type KubeClientConfig } from '@cattail/datastore/kdd';
import { realClock, type Clock, type TimerHandle } from '@cattail/typha/common';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';

/** Calico's defaults (node/pkg/cni/token_watch.go): a day's validity, refreshed at a quarter of it. */
export const DEFAULT_TOKEN_VALIDITY_SECS = 24 * 60 * 60;
const REFRESH_FRACTION = 4;
const MIN_RETRY_MS = 5_000;
const MAX_RETRY_MS = 5 * 60_000;
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface IssuedToken {
  token: string;
  /** Wall-clock milliseconds (Date.now()'s scale). */
  expiresAtMs: number;
}

export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/** The ServiceAccount a (projected or legacy) ServiceAccount token was issued to, from its `sub` claim. */
export function serviceAccountOfToken(jwt: string): ServiceAccountRef {
  const payload = jwt.split('.')[1];
  if (!payload) throw new Error('the ServiceAccount token is not a JWT');
  let sub: unknown;
  try {
    sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
  } catch (err) {
    throw new Error(`the ServiceAccount token's claims cannot be read: ${errorMessage(err)}`, { cause: err });
  }
  const m = typeof sub === 'string' ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(sub) : null;
  if (!m) throw new Error(`the token was not issued to a ServiceAccount (sub ${JSON.stringify(sub)})`);
  return { namespace: m[1], name: m[2] };
}

/**
 * Asks the API server for a token of `sa` valid `validitySecs`, bound to no object, with the
 * API server's default audience. `client` authenticates the request (the pod's own token).
 */
export async function requestServiceAccountToken(client: KubeClient, sa: ServiceAccountRef, validitySecs: number): Promise<IssuedToken> {
  const path = `/api/v1/namespaces/${encodeURIComponent(sa.namespace)}/serviceaccounts/${encodeURIComponent(sa.name)}/token`;
  const answer = (await client.request('POST', path, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: validitySecs },
  })) as { status?: { token?: unknown; expirationTimestamp?: unknown } } | undefined;
  const token = answer?.status?.token;
  const expiresAtMs = Date.parse(String(answer?.status?.expirationTimestamp ?? ''));
  if (typeof token !== 'string' || token === '' || Number.isNaN(expiresAtMs)) {
    throw new Error(`the TokenRequest for ${sa.namespace}/${sa.name} was answered without a token and its expiry`);
  }
  return { token, expiresAtMs };
}

/**
 * Writes `token` into the kubeconfig at `path` (its server and CA kept; `fallback` gives them
 * when there is no file), replacing the file atomically with mode 0600.
 */
export async function writeKubeconfigToken(path: string, token: string, fallback: () => KubeClientConfig): Promise<void> {
  const base = existsSync(path) ? loadKubeConfig(path) : fallback();
  const cluster: Record<string, string> = { server: base.server };
  if (base.ca) cluster['certificate-authority-data'] = base.ca.toString('base64');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster }],
    users: [{ name: 'cattail-cni', user: { token } }],
    contexts: [{ name: 'cattail-cni', context: { cluster: 'local', user: 'cattail-cni' } }],
    'current-context': 'cattail-cni',
  };
  const tmp = join(dirname(path), `.${Date.now()}.${process.pid}.cattail-kubeconfig.tmp`);
  await writeFile(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

export interface CniTokenRefresherOptions {
  /** The kubeconfig the direct plugin reads (the host's CNI config directory, at its host path). */
  kubeconfigPath: string;
  validitySecs: number;
  logger: Logger;
  clock?: Clock;
  /** Issues one token; default: a TokenRequest for the daemon's own ServiceAccount, as itself. */
  issue?: (validitySecs: number) => Promise<IssuedToken>;
  /** Where the kubeconfig's server and CA come from when there is no file yet (default: in-cluster). */
  clusterFallback?: () => KubeClientConfig;
  /** Wall clock (ms), for the expiry the API server states. */
  now?: () => number;
  /** Called after every token written (the daemon reopens connections that read the file). */
  onRefreshed?: () => void;
}

export interface CniTokenStatus {
  kubeconfig: string;
  refreshes: number;
  failures: number;
  /** ISO time the current token expires, once one was written. */
  expires?: string;
  lastError?: string;
}

/** The pod's own identity, read afresh each time: the kubelet rotates the mounted token. */
async function issueAsThisPod(validitySecs: number): Promise<IssuedToken> {
  const own = (await readFile(join(SERVICE_ACCOUNT_DIR, 'token'), 'utf8')).trim();
  const client = new KubeClient(inClusterConfig());
  return requestServiceAccountToken(client, serviceAccountOfToken(own), validitySecs);
}

export class CniTokenRefresher {
  readonly #opts: Required<Omit<CniTokenRefresherOptions, 'onRefreshed'>> & Pick<CniTokenRefresherOptions, 'onRefreshed'>;
  readonly #status: CniTokenStatus;
  #timer: TimerHandle | undefined;
  #retryMs = MIN_RETRY_MS;
  #stopped = false;
  /** The refresh in progress, if any (stop() waits for it so no write follows it). */
  #running: Promise<void> | undefined;

  constructor(opts: CniTokenRefresherOptions) {
    this.#opts = {
      clock: realClock,
      issue: issueAsThisPod,
      clusterFallback: inClusterConfig,
      now: Date.now,
      ...opts,
    };
    this.#status = { kubeconfig: opts.kubeconfigPath, refreshes: 0, failures: 0 };
  }

  status(): CniTokenStatus {
    return { ...this.#status };
  }

  /** The first refresh, awaited (its failure is logged and retried, not thrown). */
  async start(): Promise<void> {
    await this.#refresh();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#opts.clock.clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = this.#opts.clock.setTimeout(() => void this.#refresh(), ms, undefined);
  }

  #refresh(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const run = this.#refreshOnce().finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  async #refreshOnce(): Promise<void> {
    const { kubeconfigPath, validitySecs, logger } = this.#opts;
    try {
      const issued = await this.#opts.issue(validitySecs);
      if (this.#stopped) return;
      await writeKubeconfigToken(kubeconfigPath, issued.token, this.#opts.clusterFallback);
      this.#status.refreshes++;
      this.#status.expires = new Date(issued.expiresAtMs).toISOString();
      delete this.#status.lastError;
      this.#retryMs = MIN_RETRY_MS;
      const next = Math.max(MIN_RETRY_MS, (issued.expiresAtMs - this.#opts.now()) / REFRESH_FRACTION);
      logger.info(
        { kubeconfig: kubeconfigPath, expires: this.#status.expires, nextRefreshSecs: Math.round(next / 1000) },
        'wrote a fresh token into the CNI kubeconfig',
      );
      this.#opts.onRefreshed?.();
      this.#schedule(next);
    } catch (err) {
      this.#status.failures++;
      this.#status.lastError = errorMessage(err);
      logger.warn({ err, kubeconfig: kubeconfigPath, retrySecs: this.#retryMs / 1000 }, 'could not refresh the CNI kubeconfig token');
      this.#schedule(this.#retryMs);
      this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2);
    }
  }
}
