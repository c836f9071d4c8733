/**
 * The WorkloadEndpoint the plugin records for each pod interface: what Felix programs the
 * dataplane from and what policy selects on. Written after the wiring succeeded (so the record
 * never names an interface that does not exist), as Calico's plugin writes it:
 *
 *   metadata  name <node>-k8s-<pod>-<iface>, namespace the pod's, labels = the pod's labels
 *             (from the config's args.cni.labels: there is no Kubernetes API to ask) plus
 *             projectcalico.org/namespace, projectcalico.org/orchestrator,
 *             projectcalico.org/serviceaccount
 *   spec      orchestrator, node, containerID, pod, endpoint, serviceAccountName,
 *             ipNetworks (/32, /128), profiles [kns.<ns>, ksa.<ns>.<sa>], interfaceName (the
 *             host veth), mac (the pod side's)
 *
 * A pod restarted with a new sandbox keeps its endpoint name, so ADD overwrites an endpoint of
 * another container; DEL deletes only an endpoint whose containerID is its own, so a late DEL
 * of an old sandbox cannot remove the new one's record.
 */
import { API_VERSION, LABEL_NAMESPACE, LABEL_ORCHESTRATOR, LABEL_SERVICE_ACCOUNT, type Resource } from '@cattail/api';
import type { Datastore } from '@cattail/datastore';
import { AlreadyExistsError, NotFoundError } from '@cattail/datastore/errors';
import * as ipam from '@cattail/datastore/ipam';
import type { WorkloadIdentity } from './names.js';
import type { PodAddress } from './result.js';

const KIND = 'WorkloadEndpoint';

export interface EndpointInput {
  identity: WorkloadIdentity;
  addresses: readonly PodAddress[];
  containerMac: string;
  labels: Readonly<Record<string, string>>;
  serviceAccountName: string;
}

export function buildWorkloadEndpoint(input: EndpointInput): Resource {
  const id = input.identity;
  const labels: Record<string, string> = { ...input.labels };
  labels[LABEL_NAMESPACE] = id.namespace;
  labels[LABEL_ORCHESTRATOR] = id.orchestrator;
  if (input.serviceAccountName) labels[LABEL_SERVICE_ACCOUNT] = input.serviceAccountName;
  const profiles = [`kns.${id.namespace}`];
  if (input.serviceAccountName) profiles.push(`ksa.${id.namespace}.${input.serviceAccountName}`);
  const spec: Record<string, unknown> = {
    orchestrator: id.orchestrator,
    node: id.node,
    containerID: id.containerId,
    endpoint: id.endpoint,
    ipNetworks: input.addresses.map((a) => `${a.address}/${a.version === 4 ? 32 : 128}`),
    profiles,
    interfaceName: id.hostVeth,
  };
  if (id.orchestrator === 'k8s') spec.pod = id.pod;
  else spec.workload = id.workload;
  if (input.serviceAccountName) spec.serviceAccountName = input.serviceAccountName;
  if (input.containerMac) spec.mac = input.containerMac;
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name: id.wepName, namespace: id.namespace, labels }, spec };
}

export async function readEndpoint(ds: Datastore, id: WorkloadIdentity): Promise<Resource | undefined> {
  try {
    return await ds.get({ kind: KIND, name: id.wepName, namespace: id.namespace });
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/**
 * Create the endpoint, or replace the one stored under its name (CAS, retried). A new pod's
 * endpoint does not exist yet, so the create is tried first: one round trip in the common case,
 * a read and an update only when a previous sandbox of the pod left one.
 */
export async function writeEndpoint(ds: Datastore, wep: Resource, retry: ipam.RetryPolicy = ipam.DEFAULT_RETRY): Promise<Resource> {
  const ref = { kind: KIND, name: wep.metadata.name, namespace: wep.metadata.namespace };
  return ipam.withCasRetry(retry, `WorkloadEndpoint ${ref.namespace}/${ref.name}`, async (attempt) => {
    if (attempt === 0) {
      try {
        return await ds.create(wep);
      } catch (err) {
        if (!(err instanceof AlreadyExistsError)) throw err;
      }
    }
    let current: Resource | undefined;
    try {
      current = await ds.get(ref);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    if (!current) return ds.create(wep);
    return ds.update({ ...wep, metadata: { ...wep.metadata, resourceVersion: current.metadata.resourceVersion } });
  });
}

export type DeleteOutcome = 'deleted' | 'absent' | 'other-container';

/**
 * Delete the endpoint only if it still belongs to `containerId`. Where the datastore commits,
 * the delete is one guarded write (etcd's delete() would read the record again first).
 */
export async function deleteEndpointIfOwned(ds: Datastore, id: WorkloadIdentity, retry: ipam.RetryPolicy = ipam.DEFAULT_RETRY): Promise<DeleteOutcome> {
  const ref = { kind: KIND, name: id.wepName, namespace: id.namespace };
  return ipam.withCasRetry(retry, `WorkloadEndpoint ${id.namespace}/${id.wepName}`, async () => {
    const current = await readEndpoint(ds, id);
    if (!current) return 'absent';
    if ((current.spec as { containerID?: unknown } | undefined)?.containerID !== id.containerId) return 'other-container';
    const resourceVersion = current.metadata.resourceVersion;
    if (ds.commit && resourceVersion !== undefined) {
      await ds.commit([{ op: 'delete', ref, resourceVersion }]); // ConflictError (changed or gone): withCasRetry looks again
      return 'deleted';
    }
    try {
      await ds.delete(ref, { resourceVersion });
    } catch (err) {
      if (err instanceof NotFoundError) return 'absent';
      throw err; // ConflictError: changed under us, withCasRetry looks again
    }
    return 'deleted';
  });
}
