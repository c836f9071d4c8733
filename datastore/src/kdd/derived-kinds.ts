/**
 * The kinds Calico's Kubernetes datastore does not keep as CRDs but derives from Kubernetes' own
 * objects, served by KubeDatastore through the pure conversions of ./convert/ (libcalico-go
 * `lib/backend/k8s/resources/{profile,workloadendpoint,node,networkpolicy}.go`):
 *
 *   WorkloadEndpoint   Pods (one namespace, or all)              writes: the pod's IP annotations
 *   Profile            kns.<ns> from Namespaces, ksa.<ns>.<sa>   read-only
 *                      from ServiceAccounts, and the built-in
 *                      projectcalico-default-allow
 *   NetworkPolicy      knp.default.<name> from networking.k8s.io read-only (Calico's own
 *                      NetworkPolicies; listed with the CRD ones  NetworkPolicies stay CRDs)
 *   Node               Kubernetes Nodes                          update only: a merge patch of
 *                                                                the Node's projectcalico.org/*
 *                                                                annotations
 *
 * A read converts what the API server returns: a pod Calico would not show (host network, not
 * scheduled, finished, no IP) is not found, as in Calico; an object whose conversion fails is a
 * CorruptValueError (in a list: reported in `errors`, never fatal to it). resourceVersion is the
 * Kubernetes object's (a Profile's is Calico's `<namespace rv>/<service account rv>`); a list
 * of two sources (Profiles, NetworkPolicies) is at the later of their two revisions, which are
 * the same etcd's.
 *
 * Writes are refused with ReadOnlyError (DATASTORE_READ_ONLY, in calicoctl's words "operation
 * Create is not supported on ...") and say which Kubernetes object to change instead: Calico
 * derives these on every read, so a write could not stick. Two exceptions, as Calico makes them.
 * A WorkloadEndpoint write (the CNI plugin's, after it wired a pod) sets the pod's
 * `cni.projectcalico.org/podIP`, `podIPs` and `containerID` annotations, through the pod's
 * `status` subresource as Calico's plugin does (its RBAC then needs only `pods/status` patch),
 * with the given resourceVersion as a precondition; a delete blanks podIP and podIPs, so the
 * pod derives no endpoint until its next sandbox. And Node:
 * calico/node stores its BGP, tunnel and WireGuard fields as annotations of the Kubernetes
 * Node, so an update writes exactly those (`calicoNodeToK8sAnnotationPatch`), with the given
 * resourceVersion as the patch's precondition; creating or deleting a Node is Kubernetes' job.
 */
import {
  API_VERSION,
  ApiError,
  CorruptValueError,
  describeRef,
  findKind,
  validateResource,
  ValidationError,
  type Resource,
  type ResourceRef,
} from '@cattail/api';
import type { ListOptions, ListResult } from '../datastore.js';
import { ConflictError, NotFoundError, ReadOnlyError } from '../errors.js';
import { ALLOW_ALL_RULE } from './convert/namespace.js';
import {
  ANNOTATION_CONTAINER_ID,
  ANNOTATION_POD_IP,
  ANNOTATION_POD_IPS,
  K8S_NETWORK_POLICY_PREFIX,
  NAMESPACE_PROFILE_PREFIX,
  SERVICE_ACCOUNT_PROFILE_PREFIX,
} from './convert/names.js';
import { calicoNodeToK8sAnnotationPatch } from './convert/node-patch.js';
import { LIST_PAGE_SIZE, listPaged, type KubeClient } from './kube-client.js';
import { describeObject, k8sPolicySource, namespaceSource, nodeSource, podSource, serviceAccountSource, type KubeSource } from './kube-source.js';

/** Calico's built-in profile that allows everything (libcalico-go `resources.DefaultAllowProfile`). */
export const DEFAULT_ALLOW_PROFILE = 'projectcalico-default-allow';

/** The kinds served wholly from Kubernetes objects. */
const DERIVED_KINDS = new Set(['WorkloadEndpoint', 'Profile', 'Node']);

/** KubeDatastore's error mapping around one API call (HTTP status → our DatastoreErrors). */
export type KubeCall = <T>(ref: ResourceRef, fn: () => Promise<T>) => Promise<T>;

interface KubeList {
  items: unknown[];
  revision: number;
}

const PODS = podSource();
const NAMESPACES = namespaceSource();
const SERVICE_ACCOUNTS = serviceAccountSource();
const NODES = nodeSource();
const K8S_POLICIES = k8sPolicySource();

/** The canonical kind name (`findKind` accepts Calico's aliases), or the input. */
function canonical(kind: string): string {
  return findKind(kind)?.kind ?? kind;
}

/** Whether KubeDatastore serves `kind` (and, for NetworkPolicy, this name) here rather than from a CRD. */
export function isDerived(kind: string, name?: string): boolean {
  const k = canonical(kind);
  return DERIVED_KINDS.has(k) || (k === 'NetworkPolicy' && name !== undefined && name.startsWith(K8S_NETWORK_POLICY_PREFIX));
}

/** Whether a list of `kind` includes derived resources next to (or instead of) CRD objects. */
export function listsDerived(kind: string): 'only' | 'also' | undefined {
  const k = canonical(kind);
  if (DERIVED_KINDS.has(k)) return 'only';
  return k === 'NetworkPolicy' ? 'also' : undefined;
}

export class DerivedKinds {
  readonly #client: KubeClient;
  readonly #call: KubeCall;

  readonly #pageSize: number;

  constructor(client: KubeClient, call: KubeCall, pageSize = LIST_PAGE_SIZE) {
    this.#client = client;
    this.#call = call;
    this.#pageSize = pageSize;
  }

  async get(ref: ResourceRef): Promise<Resource> {
    const kind = canonical(ref.kind);
    const at: ResourceRef = { ...ref, kind };
    switch (kind) {
      case 'WorkloadEndpoint':
        return this.#getWorkloadEndpoint(at);
      case 'Profile':
        return this.#getProfile(at);
      case 'Node':
        return this.#getOne(at, NODES, undefined, ref.name);
      default: // a knp.default.* NetworkPolicy, the one other name `isDerived` sends here
        return this.#getOne(at, K8S_POLICIES, requireNamespace(at), ref.name.slice(K8S_NETWORK_POLICY_PREFIX.length));
    }
  }

  /** A derived kind's list, or for NetworkPolicy only the knp.default.* ones (KubeDatastore adds the CRD objects). */
  async list(kind: string, opts: ListOptions = {}): Promise<ListResult> {
    const k = canonical(kind);
    switch (k) {
      case 'WorkloadEndpoint':
        return this.#listConverted(k, [[PODS, opts.namespace]]);
      case 'Profile': {
        const listed = await this.#listConverted(k, [
          [NAMESPACES, undefined],
          [SERVICE_ACCOUNTS, undefined],
        ]);
        return { ...listed, items: [defaultAllowProfile(), ...listed.items] };
      }
      case 'Node':
        return this.#listConverted(k, [[NODES, undefined]]);
      default: // NetworkPolicy, the one other kind `listsDerived` sends here
        return this.#listConverted(k, [[K8S_POLICIES, opts.namespace]]);
    }
  }

  /** WorkloadEndpoint: the pod's IP annotations. Anything else is read-only. */
  async create(res: Resource): Promise<Resource> {
    const ref = refOf(res);
    if (ref.kind === 'WorkloadEndpoint') return this.#writeEndpoint(ref, res);
    throw this.#readOnly('Create', ref);
  }

  /** Node: its projectcalico.org/* annotations onto the Kubernetes Node; WorkloadEndpoint: the pod's IP annotations. Anything else is read-only. */
  async update(res: Resource): Promise<Resource> {
    const ref = refOf(res);
    if (ref.kind === 'WorkloadEndpoint') return this.#writeEndpoint(ref, res);
    if (ref.kind !== 'Node') throw this.#readOnly('Update', ref);
    const issues = validateResource(res);
    if (issues.length > 0) throw new ValidationError(describeRef(ref), issues);
    const patch = calicoNodeToK8sAnnotationPatch(res);
    if (patch.outcome === 'failed') throw new ValidationError(describeRef(ref), [{ path: 'metadata', message: patch.error }]);
    const expected = res.metadata.resourceVersion;
    // With a resourceVersion in the patch, the API server applies it only to that version (409 otherwise).
    const body = expected ? { metadata: { ...patch.patch.metadata, resourceVersion: expected } } : patch.patch;
    let written: unknown;
    try {
      written = await this.#call(ref, () => this.#client.request('PATCH', NODES.path(undefined, ref.name), body));
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      const now = await this.get(ref);
      throw new ConflictError(ref, expected, now.metadata.resourceVersion);
    }
    return this.#converted(ref, NODES, written);
  }

  async delete(ref: ResourceRef, resourceVersion?: string): Promise<Resource> {
    const at = { ...ref, kind: canonical(ref.kind) };
    if (at.kind !== 'WorkloadEndpoint') throw this.#readOnly('Delete', at);
    const current = await this.#getWorkloadEndpoint(at);
    await this.#patchPodIPs(at, requireNamespace(at), String((current.spec as { pod?: unknown }).pod), {
      annotations: { [ANNOTATION_POD_IP]: '', [ANNOTATION_POD_IPS]: '' },
      resourceVersion: resourceVersion ?? current.metadata.resourceVersion,
    });
    return current;
  }

  /** The endpoint's addresses and container onto its pod's annotations; the endpoint as the pod now derives it. */
  async #writeEndpoint(ref: ResourceRef, res: Resource): Promise<Resource> {
    const issues = validateResource(res);
    if (issues.length > 0) throw new ValidationError(describeRef(ref), issues);
    const namespace = requireNamespace(ref);
    const spec = (res.spec ?? {}) as { pod?: unknown; ipNetworks?: unknown; containerID?: unknown };
    if (typeof spec.pod !== 'string' || spec.pod === '') {
      throw new ValidationError(describeRef(ref), [
        { path: 'spec.pod', message: 'the Kubernetes datastore keeps endpoints on their pods: spec.pod is required' },
      ]);
    }
    // The endpoint must be the one the pod derives (<node>-k8s-<pod>-<endpoint>), checked before anything is written.
    const parts = splitEndpointName(ref.name);
    const pod = (await this.#call(ref, () => this.#client.request('GET', PODS.path(namespace, spec.pod as string)))) as { spec?: { nodeName?: unknown } };
    if (parts?.length !== 4 || parts[1] !== 'k8s' || parts[2] !== spec.pod || parts[0] !== pod.spec?.nodeName) {
      const node = typeof pod.spec?.nodeName === 'string' ? pod.spec.nodeName : '<unscheduled>';
      throw new ValidationError(describeRef(ref), [
        { path: 'metadata.name', message: `pod ${namespace}/${spec.pod} on node ${node} does not derive an endpoint of this name` },
      ]);
    }
    const nets = Array.isArray(spec.ipNetworks) ? spec.ipNetworks.filter((n): n is string => typeof n === 'string') : [];
    const written = await this.#patchPodIPs(ref, namespace, spec.pod, {
      annotations: {
        [ANNOTATION_POD_IP]: nets[0] ?? '',
        [ANNOTATION_POD_IPS]: nets.join(','),
        [ANNOTATION_CONTAINER_ID]: typeof spec.containerID === 'string' ? spec.containerID : '',
      },
      resourceVersion: res.metadata.resourceVersion,
    });
    const wep = this.#converted(ref, PODS, written);
    if (wep.metadata.name !== ref.name) {
      throw new ValidationError(describeRef(ref), [
        { path: 'metadata.name', message: `pod ${namespace}/${spec.pod} derives the endpoint ${wep.metadata.name}, not this one` },
      ]);
    }
    return wep;
  }

  /** A merge patch of the pod's annotations through its status subresource (a stale resourceVersion: ConflictError). */
  async #patchPodIPs(
    ref: ResourceRef,
    namespace: string,
    pod: string,
    change: { annotations: Record<string, string>; resourceVersion: string | undefined },
  ): Promise<unknown> {
    const metadata: Record<string, unknown> = { annotations: change.annotations };
    if (change.resourceVersion) metadata.resourceVersion = change.resourceVersion;
    return this.#call(ref, () => this.#client.request('PATCH', `${PODS.path(namespace, pod)}/status`, { metadata }));
  }

  #readOnly(operation: 'Create' | 'Update' | 'Delete', ref: ResourceRef): ReadOnlyError {
    const name = ref.name;
    const from = ((): string => {
      switch (ref.kind) {
        case 'WorkloadEndpoint':
          return `derives it from a Pod in namespace ${ref.namespace ?? '<none>'}: change the Pod instead`;
        case 'Profile':
          if (name === DEFAULT_ALLOW_PROFILE) return 'serves this built-in profile itself';
          if (name.startsWith(NAMESPACE_PROFILE_PREFIX))
            return `derives it from the Namespace ${name.slice(NAMESPACE_PROFILE_PREFIX.length)}: change that instead`;
          if (name.startsWith(SERVICE_ACCOUNT_PROFILE_PREFIX))
            return `derives it from a ServiceAccount (${name.slice(SERVICE_ACCOUNT_PROFILE_PREFIX.length)}): change that instead`;
          return 'derives Profiles from Namespaces (kns.*) and ServiceAccounts (ksa.*) only';
        case 'Node':
          return 'derives Nodes from the Kubernetes Nodes, which Kubernetes creates and deletes (update changes only their projectcalico.org annotations)';
        default:
          return `derives it from the Kubernetes NetworkPolicy ${ref.namespace ?? '<none>'}/${name.slice(K8S_NETWORK_POLICY_PREFIX.length)}: change that instead`;
      }
    })();
    return new ReadOnlyError(operation, ref, `the Kubernetes datastore ${from}`);
  }

  async #getWorkloadEndpoint(ref: ResourceRef): Promise<Resource> {
    const namespace = requireNamespace(ref);
    const parts = splitEndpointName(ref.name);
    if (parts?.length !== 4 || parts[1] !== 'k8s') throw new NotFoundError(ref);
    const wep = await this.#getOne(ref, PODS, namespace, parts[2]);
    // The pod exists, but on another node or under another endpoint name than asked for.
    if (wep.metadata.name !== ref.name) throw new NotFoundError(ref);
    return wep;
  }

  async #getProfile(ref: ResourceRef): Promise<Resource> {
    const name = ref.name;
    if (name === DEFAULT_ALLOW_PROFILE) return defaultAllowProfile();
    if (name.startsWith(NAMESPACE_PROFILE_PREFIX)) return this.#getOne(ref, NAMESPACES, undefined, name.slice(NAMESPACE_PROFILE_PREFIX.length));
    if (name.startsWith(SERVICE_ACCOUNT_PROFILE_PREFIX)) {
      // A namespace name has no '.', a service account's may.
      const rest = name.slice(SERVICE_ACCOUNT_PROFILE_PREFIX.length);
      const dot = rest.indexOf('.');
      if (dot > 0) return this.#getOne(ref, SERVICE_ACCOUNTS, rest.slice(0, dot), rest.slice(dot + 1));
    }
    throw new NotFoundError(ref);
  }

  /** One object, converted; a skipped one is not found, as in Calico. */
  async #getOne(ref: ResourceRef, source: KubeSource, namespace: string | undefined, name: string): Promise<Resource> {
    if (name === '') throw new NotFoundError(ref);
    const obj = await this.#call(ref, () => this.#client.request('GET', source.path(namespace, name)));
    return this.#converted(ref, source, obj);
  }

  #converted(ref: ResourceRef, source: KubeSource, obj: unknown): Resource {
    const d = source.decode(obj);
    if (d.outcome === 'resource') return d.resource;
    if (d.outcome === 'none') throw new NotFoundError(ref);
    throw d.outcome === 'corrupt' ? d.error : new CorruptValueError(describeObject(source, obj), d.message);
  }

  async #listConverted(kind: string, sources: ReadonlyArray<readonly [KubeSource, string | undefined]>): Promise<ListResult> {
    const out: ListResult = { items: [], revision: 0, errors: [] };
    for (const [source, namespace] of sources) {
      const { items, revision } = await this.#list({ kind, name: '*', namespace }, source, namespace);
      out.revision = Math.max(out.revision, revision);
      for (const obj of items) {
        const d = source.decode(obj);
        if (d.outcome === 'resource') out.items.push(d.resource);
        else if (d.outcome === 'failed') out.errors.push(new CorruptValueError(describeObject(source, obj), d.message));
        else if (d.outcome === 'corrupt') out.errors.push(d.error);
      }
    }
    return out;
  }

  async #list(ref: ResourceRef, source: KubeSource, namespace: string | undefined): Promise<KubeList> {
    const list = await this.#call(ref, () => listPaged((path) => this.#client.request('GET', path), source.path(namespace), { pageSize: this.#pageSize }));
    return { items: list.items, revision: Number(list.resourceVersion) };
  }
}

/** The built-in profile, as Calico serves it: no source object, resourceVersion "0". */
export function defaultAllowProfile(): Resource {
  return {
    apiVersion: API_VERSION,
    kind: 'Profile',
    metadata: { name: DEFAULT_ALLOW_PROFILE, resourceVersion: '0' },
    spec: { ingress: [{ ...ALLOW_ALL_RULE }], egress: [{ ...ALLOW_ALL_RULE }] },
  };
}

/**
 * The parts of a workload endpoint name (`<node>-<orchestrator>-<workload>-<endpoint>`): a
 * single '-' separates, '--' is a '-' within a part. Undefined when a part would be empty.
 */
export function splitEndpointName(name: string): string[] | undefined {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < name.length; i++) {
    if (name[i] !== '-') current += name[i];
    else if (name[i + 1] === '-') {
      current += '-';
      i++;
    } else {
      parts.push(current);
      current = '';
    }
  }
  parts.push(current);
  return parts.every((p) => p !== '') ? parts : undefined;
}

function requireNamespace(ref: ResourceRef): string {
  if (!ref.namespace) throw new ApiError('NAMESPACE_REQUIRED', `${ref.kind} is namespaced: a namespace is required`);
  return ref.namespace;
}

function refOf(res: Resource): ResourceRef {
  const ref: ResourceRef = { kind: canonical(res.kind), name: res.metadata.name };
  if (res.metadata.namespace) ref.namespace = res.metadata.namespace;
  return ref;
}
