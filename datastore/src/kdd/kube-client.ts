/**
 * The smallest Kubernetes API client the KDD backend needs, on `node:https`: JSON requests and
 * line-delimited watch streams, with the credentials of a kubeconfig (client certificate or
 * bearer token) or of the pod (in-cluster service account). A PATCH is always a JSON merge patch
 * (`application/merge-patch+json`, RFC 7386), the one patch type the backend writes (a Calico
 * Node's annotations onto the Kubernetes Node).
 *
 * Why not `@kubernetes/client-node`: 2.0.1 (the first release whose watches are not cut after
 * 30 s) depends on undici ^8, which requires Node >= 22.19 and throws at import on Node 20, our
 * floor (`TypeError: Cannot read properties of undefined (reading 'bind')` in undici's
 * `interceptor/decompress.js`, the zstd API Node 20 lacks). Forcing undici 7 under it would be
 * a combination nobody tests. What we need of it is small: five verbs on one resource path, a
 * list, and a watch whose every byte we must see anyway (heartbeat, in-stream 410).
 *
 * A bearer token from a file (the pod's mounted ServiceAccount token, a kubeconfig's
 * `tokenFile`) is read again at most a minute after the last read, and at once after a 401, as
 * client-go's cached file token source does: the kubelet rotates a projected token well before
 * it expires (an hour, where the API server does not extend it), and a long-running component
 * must follow it or be locked out.
 *
 * The watch's heartbeat is an inactivity timer reset on every chunk: the API server sends a
 * BOOKMARK about once a minute on an idle watch (with `allowWatchBookmarks`), so silence past
 * the timeout means a dead or half-open connection, and the request is destroyed.
 */
import { readFileSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UnavailableError } from '../errors.js';
import { KubeHttpError } from './kube-http-error.js';

export { KubeHttpError };

export interface KubeClientConfig {
  /** `https://host:port` */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  /** A file holding the bearer token, read again as it rotates (wins over `token`). */
  tokenFile?: string;
}

export interface WatchStreamHandlers {
  /** The server answered 200: the stream is open (an idle watch may send nothing for a minute). */
  onOpen(): void;
  /** One decoded line of the stream: `{type, object}`. */
  onEvent(type: string, object: unknown): void;
  /** The stream ended: undefined when the server closed it cleanly; KubeHttpError for a non-200 start. */
  onEnd(err?: Error): void;
}

export interface WatchStream {
  close(): void;
}

const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Per request (not per watch): a plain call that takes longer is treated as unavailable. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A kubeconfig's current context (file `path`, else $KUBECONFIG's first file, else
 * ~/.kube/config), or the in-cluster service account when no file exists and
 * KUBERNETES_SERVICE_HOST is set.
 */
export function loadKubeConfig(path?: string): KubeClientConfig {
  const file = path ?? process.env.KUBECONFIG?.split(':').find((p) => p !== '') ?? join(homedir(), '.kube', 'config');
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (path !== undefined || process.env.KUBERNETES_SERVICE_HOST === undefined) {
      throw new UnavailableError(`cannot read kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (text === undefined) return inClusterConfig();
  const doc = parseYaml(text) as KubeconfigDoc;
  const ctxName = doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx?.user)?.user ?? {};
  if (!ctx || !cluster?.server) throw new UnavailableError(`kubeconfig ${file}: current context "${ctxName ?? ''}" names no cluster with a server`);
  return {
    server: cluster.server.replace(/\/$/, ''),
    ca: bytes(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: bytes(user['client-certificate-data'], user['client-certificate']),
    key: bytes(user['client-key-data'], user['client-key']),
    token: user.token ?? (user.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : undefined),
    tokenFile: user.token ? undefined : user.tokenFile,
  };
}

interface KubeconfigDoc {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name: string; cluster?: { server?: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string } }[];
  users?: {
    name: string;
    user?: {
      'client-certificate'?: string;
      'client-certificate-data'?: string;
      'client-key'?: string;
      'client-key-data'?: string;
      token?: string;
      tokenFile?: string;
    };
  }[];
}

function bytes(data: string | undefined, file: string | undefined): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (file) return readFileSync(file);
  return undefined;
}

/** The pod's own service account: KUBERNETES_SERVICE_HOST/PORT, its token and CA. */
export function inClusterConfig(): KubeClientConfig {
  const host = process.env.KUBERNETES_SERVICE_HOST ?? '';
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(IN_CLUSTER_DIR, 'ca.crt')),
    token: readFileSync(join(IN_CLUSTER_DIR, 'token'), 'utf8').trim(),
    tokenFile: join(IN_CLUSTER_DIR, 'token'),
  };
}

/** How long a token read from a file is used before the file is read again (client-go's minute). */
export const TOKEN_FILE_REREAD_MS = 60_000;

export class KubeClient {
  readonly #config: KubeClientConfig;
  readonly #agent: Agent;
  readonly #now: () => number;
  #token: string | undefined;
  #tokenReadAt = -Infinity;

  constructor(config: KubeClientConfig, opts: { now?: () => number } = {}) {
    this.#config = config;
    this.#agent = new Agent({ keepAlive: true, ca: config.ca, cert: config.cert, key: config.key });
    this.#now = opts.now ?? Date.now;
    this.#token = config.token;
    if (config.tokenFile !== undefined && config.token !== undefined) this.#tokenReadAt = this.#now();
  }

  /** The bearer token to send: the file's, re-read when a minute old or after a 401. */
  #bearer(): string | undefined {
    const file = this.#config.tokenFile;
    if (file === undefined || this.#now() - this.#tokenReadAt < TOKEN_FILE_REREAD_MS) return this.#token;
    try {
      this.#token = readFileSync(file, 'utf8').trim();
      this.#tokenReadAt = this.#now();
    } catch {
      // Keep the last token (the kubelet swaps the file's symlink atomically; a read between
      // is not expected, but a missing file must not stop requests that may still pass).
    }
    return this.#token;
  }

  /** A 401: the token may have rotated under us; the next request reads the file again. */
  #unauthorized(status: number): void {
    if (status === 401) this.#tokenReadAt = -Infinity;
  }

  /** One JSON request (PATCH: a merge patch); resolves to the decoded body of a 2xx, rejects with KubeHttpError or UnavailableError. */
  request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(`${this.#config.server}${path}`, this.#options(method, payload), (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = { message: text.slice(0, 500) };
          }
          this.#unauthorized(status);
          if (status >= 200 && status < 300) resolve(parsed);
          else reject(new KubeHttpError(status, typeof parsed === 'object' && parsed !== null ? parsed : {}));
        });
        res.on('error', (err) => reject(unavailable(method, path, err)));
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', (err) => reject(unavailable(method, path, err)));
      req.end(payload);
    });
  }

  /** A watch stream on `path` (query already in it); `heartbeatMs` of silence destroys it. */
  watch(path: string, heartbeatMs: number, handlers: WatchStreamHandlers): WatchStream {
    let ended = false;
    const end = (err?: Error): void => {
      if (ended) return;
      ended = true;
      handlers.onEnd(err);
    };
    const req = request(`${this.#config.server}${path}`, this.#options('GET'), (res) => {
      const status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      if (status !== 200) {
        this.#unauthorized(status);
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => end(new KubeHttpError(status, safeJson(text))));
        return;
      }
      handlers.onOpen();
      let buffered = '';
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === '' || ended) continue;
          const ev = safeJson(line) as { type?: unknown; object?: unknown };
          if (typeof ev.type === 'string') handlers.onEvent(ev.type, ev.object);
        }
      });
      res.on('end', () => end());
      res.on('error', (err) => end(err));
    });
    // Socket inactivity, reset by every chunk either way: the heartbeat.
    req.setTimeout(heartbeatMs, () => req.destroy(new Error(`watch ${path}: nothing received for ${heartbeatMs} ms`)));
    req.on('socket', (socket) => socket.setKeepAlive(true, 15_000));
    req.on('error', (err) => end(err));
    req.end();
    return {
      close: () => {
        ended = true;
        req.destroy();
      },
    };
  }

  close(): void {
    this.#agent.destroy();
  }

  #options(method: string, payload?: string): RequestOptions {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const token = this.#bearer();
    if (token) headers.Authorization = `Bearer ${token}`;
    return { method, headers, agent: this.#agent };
  }
}

function unavailable(method: string, path: string, err: Error): UnavailableError {
  return new UnavailableError(`kube-apiserver: ${method} ${path}: ${err.message}`, { cause: err });
}

function safeJson(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return { message: text.slice(0, 500) };
  }
}

/** client-go's reflector page size: a list of 150,000 pods comes in 300 answers, not one. */
export const LIST_PAGE_SIZE = 500;

export interface PagedListOptions {
  /** Items per page (`limit`); 0 lists in one request. */
  pageSize?: number;
  /** List at exactly this resourceVersion (resourceVersionMatch=Exact); default: the latest. */
  resourceVersion?: string;
}

/**
 * A collection listed in pages (`limit` and the API server's `continue` token), as client-go's
 * pager lists: every page comes from the snapshot of the first (the token carries its
 * resourceVersion), so the result is one consistent list at one resourceVersion, while neither
 * side ever holds the whole collection in one JSON body. A continue token that expired (410:
 * the snapshot was compacted between pages) makes it list again in one request, as client-go's
 * FullListIfExpired does; a 410 of the first request (an exact resourceVersion compacted) is the
 * caller's.
 */
export async function listPaged(
  get: (path: string) => Promise<unknown>,
  path: string,
  opts: PagedListOptions = {},
): Promise<{ items: unknown[]; resourceVersion: string }> {
  const pageSize = opts.pageSize ?? LIST_PAGE_SIZE;
  const first = new URLSearchParams();
  if (opts.resourceVersion !== undefined) {
    first.set('resourceVersion', opts.resourceVersion);
    first.set('resourceVersionMatch', 'Exact');
  }
  if (pageSize > 0) first.set('limit', String(pageSize));
  const items: unknown[] = [];
  let resourceVersion = '0';
  let query = first;
  for (;;) {
    let page: { items?: unknown[]; metadata?: { resourceVersion?: string; continue?: string } };
    try {
      page = (await get(`${path}?${query.toString()}`)) as typeof page;
    } catch (err) {
      if (query.has('continue') && err instanceof KubeHttpError && err.statusCode === 410) {
        return listPaged(get, path, { ...opts, pageSize: 0 });
      }
      throw err;
    }
    if (query === first) resourceVersion = page.metadata?.resourceVersion ?? '0';
    for (const item of page.items ?? []) items.push(item);
    const token = page.metadata?.continue;
    if (!token) return { items, resourceVersion };
    query = new URLSearchParams({ limit: String(pageSize), continue: token });
  }
}
