/**
 * Replicas from the Kubernetes Service's EndpointSlices (discovery.k8s.io/v1), as Calico's Typha
 * discovery does: every ready endpoint of every slice labelled
 * `kubernetes.io/service-name=<service>`, on the port with the given name, with `nodeName`
 * kept so the client can prefer a replica on its own node.
 *
 *   GET {apiServer}/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices
 *       ?labelSelector=kubernetes.io%2Fservice-name%3D{service}[&continue=…]
 *
 * `conditions.ready` missing counts as ready (the API says to treat unknown as ready);
 * terminating endpoints are skipped. The HTTP client is injected (`fetch`); the default speaks
 * HTTPS with the given CA through node:https, since Node's global fetch cannot take a CA.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { toUrl, type Discovery, type Endpoint } from './endpoint.js';
import { ClientConfigError, DiscoveryError } from './errors.js';

/** The part of the fetch API the discovery uses; the global fetch satisfies it. */
export type FetchLike = (url: string, init: { method: 'GET'; headers: Record<string, string>; signal?: AbortSignal }) => Promise<FetchResponse>;

export interface FetchResponse {
  ok: boolean;
  status: number;
  statusText?: string;
  json(): Promise<unknown>;
}

export interface K8sServiceDiscoveryOptions {
  namespace: string;
  service: string;
  /** e.g. `https://10.96.0.1:443` (in a pod: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT). */
  apiServer: string;
  /** Bearer token, or a function read on every call (projected service-account tokens rotate). */
  token?: string | (() => string | Promise<string>);
  /** PEM CA bundle for the API server (the default fetch only). */
  ca?: string | Buffer;
  /** Name of the Service port Typha listens on. Default "cattail-typha". */
  portName?: string;
  /** wss:// instead of ws://. */
  secure?: boolean;
  fetch?: FetchLike;
  /** Per-request timeout. Default 10000. */
  timeoutMs?: number;
}

export const DEFAULT_TYPHA_PORT_NAME = 'cattail-typha';

export function k8sServiceDiscovery(opts: K8sServiceDiscoveryOptions): Discovery {
  for (const key of ['namespace', 'service', 'apiServer'] as const) {
    if (typeof opts[key] !== 'string' || opts[key] === '') {
      throw new ClientConfigError(`typha Kubernetes discovery: ${key} is required`);
    }
  }
  let base: URL;
  try {
    base = new URL(opts.apiServer);
  } catch (err) {
    throw new ClientConfigError(`typha Kubernetes discovery: apiServer "${opts.apiServer}" is not a URL`, { cause: err });
  }
  const portName = opts.portName ?? DEFAULT_TYPHA_PORT_NAME;
  const doFetch = opts.fetch ?? nodeFetch(opts.ca);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const path =
    `${base.pathname.replace(/\/$/, '')}/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}` +
    `/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${opts.service}`)}`;
  const what = `EndpointSlices of service ${opts.namespace}/${opts.service}`;

  return {
    async endpoints(): Promise<Endpoint[]> {
      const headers: Record<string, string> = { accept: 'application/json' };
      const token = typeof opts.token === 'function' ? await opts.token() : opts.token;
      if (token) headers.authorization = `Bearer ${token}`;
      const found = new Map<string, Endpoint>();
      let cont: string | undefined;
      do {
        const url = `${base.origin}${path}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
        let res: FetchResponse;
        let body: unknown;
        try {
          res = await doFetch(url, { method: 'GET', headers, signal: AbortSignal.timeout(timeoutMs) });
        } catch (err) {
          throw new DiscoveryError(`typha Kubernetes discovery: GET ${what}: ${(err as Error).message}`, { cause: err });
        }
        if (!res.ok) {
          const hint = res.status === 401 || res.status === 403 ? ` (check the token and RBAC: list endpointslices in ${opts.namespace})` : '';
          throw new DiscoveryError(`typha Kubernetes discovery: GET ${what}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${hint}`, {
            status: res.status,
          });
        }
        try {
          body = await res.json();
        } catch (err) {
          throw new DiscoveryError(`typha Kubernetes discovery: ${what}: response is not JSON`, { cause: err });
        }
        cont = readSlices(body, portName, opts.secure ?? false, found, what);
      } while (cont);
      return [...found.values()];
    },
  };
}

/** Adds the ready endpoints of an EndpointSliceList to `out`; returns the continue token. */
function readSlices(body: unknown, portName: string, secure: boolean, out: Map<string, Endpoint>, what: string): string | undefined {
  const list = body as { items?: unknown; metadata?: { continue?: unknown } } | null;
  if (typeof list !== 'object' || list === null || !Array.isArray(list.items)) {
    throw new DiscoveryError(`typha Kubernetes discovery: ${what}: response has no items list`);
  }
  for (const slice of list.items as EndpointSlice[]) {
    if (typeof slice !== 'object' || slice === null) continue;
    const type = slice.addressType;
    if (type !== 'IPv4' && type !== 'IPv6' && type !== 'FQDN') continue;
    const port = (slice.ports ?? []).find((p) => p?.name === portName)?.port;
    if (typeof port !== 'number') continue;
    for (const ep of slice.endpoints ?? []) {
      if (typeof ep !== 'object' || ep === null) continue;
      if (ep.conditions?.ready === false || ep.conditions?.terminating === true) continue;
      for (const address of ep.addresses ?? []) {
        if (typeof address !== 'string' || address === '') continue;
        const url = toUrl(type === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`, { secure });
        if (out.has(url)) continue;
        out.set(url, typeof ep.nodeName === 'string' ? { url, node: ep.nodeName } : { url });
      }
    }
  }
  const c = list.metadata?.continue;
  return typeof c === 'string' && c !== '' ? c : undefined;
}

/** The fields of discovery.k8s.io/v1 EndpointSlice that discovery reads. */
interface EndpointSlice {
  addressType?: string;
  ports?: Array<{ name?: string; port?: number; protocol?: string } | null>;
  endpoints?: Array<{
    addresses?: unknown[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    nodeName?: string;
  } | null>;
}

/** GET with node:http(s), trusting `ca`. Enough of fetch for one JSON request. */
function nodeFetch(ca: string | Buffer | undefined): FetchLike {
  return (url, init) =>
    new Promise<FetchResponse>((resolve, reject) => {
      const u = new URL(url);
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
        u,
        { method: init.method, headers: init.headers, signal: init.signal, ...(ca !== undefined && u.protocol === 'https:' ? { ca } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            resolve({
              ok: status >= 200 && status < 300,
              status,
              statusText: res.statusMessage,
              json: () => Promise.resolve().then(() => JSON.parse(text) as unknown),
            });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
}
