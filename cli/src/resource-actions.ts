/**
 * What apply, create, replace and delete do to ONE resource, with calicoctl's semantics
 * (calicoctl/resourcemgr):
 *
 *   create   only name, namespace, labels and annotations of the file's metadata are kept; the
 *            datastore sets uid and creationTimestamp. A resourceVersion in the file is refused.
 *   replace  the stored object's metadata is carried over (uid, creationTimestamp,
 *            resourceVersion, ...) except labels and annotations, which come from the file. The
 *            write is a compare-and-swap on the stored resourceVersion; a concurrent writer makes
 *            it re-read and retry (5 attempts). A resourceVersion in the file must still be the
 *            stored one ("update conflict" otherwise) and is then not retried.
 *   apply    create; if it already exists, replace.
 *   delete   by reference; a resourceVersion (from a file) makes it conditional.
 *   modify   (patch, label) read, change, compare-and-swap; a lost race re-reads and retries.
 *
 * ClusterInformation is read-only to the CLI, as in calicoctl (calico/node owns it).
 * Errors are the datastore's own (NotFound, AlreadyExists, Conflict), or ResourceRejectedError;
 * `calico-messages.ts` words them the way calicoctl does.
 */
import { describeRef, refOf, type ObjectMeta, type Resource, type ResourceRef } from '@cattail/api';
import type { Datastore } from '@cattail/datastore';
import { ResourceRejectedError } from './errors.js';

const UPDATE_ATTEMPTS = 5;

export async function createResource(ds: Datastore, res: Resource): Promise<Resource> {
  refuseReadOnly(res, 'create or apply');
  const rv = res.metadata.resourceVersion;
  if (rv) {
    throw new ResourceRejectedError(
      'CLI_RESOURCE_VERSION_ON_CREATE',
      `error with field Metadata.ResourceVersion = '${rv}' (field must not be set for a Create request)`,
    );
  }
  return ds.create(withMetadata(res, metadataForCreate(res.metadata)));
}

export async function replaceResource(ds: Datastore, res: Resource): Promise<Resource> {
  refuseReadOnly(res, 'apply or replace');
  const ref = refOf(res);
  const givenRv = res.metadata.resourceVersion;
  if (givenRv) {
    const stored = await ds.get(ref);
    if (stored.metadata.resourceVersion !== givenRv) {
      throw new ResourceRejectedError('CLI_UPDATE_CONFLICT', `update conflict: ${describeRef(ref)}`);
    }
    return ds.update(mergeForUpdate(stored, res));
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
    const stored = await ds.get(ref);
    try {
      return await ds.update(mergeForUpdate(stored, res));
    } catch (err) {
      if (!hasCode(err, 'DATASTORE_CONFLICT')) throw err;
      lastError = err; // someone wrote in between: read the new version and try again
    }
  }
  throw lastError;
}

export async function applyResource(ds: Datastore, res: Resource): Promise<Resource> {
  if (res.kind === 'ClusterInformation') {
    throw new ResourceRejectedError('CLI_OPERATION_NOT_SUPPORTED', 'operation apply is not supported on ClusterInformation: resource is readonly');
  }
  const { resourceVersion: _rv, ...rest } = res.metadata;
  try {
    return await createResource(ds, withMetadata(res, rest));
  } catch (err) {
    if (!hasCode(err, 'DATASTORE_ALREADY_EXISTS')) throw err;
  }
  return replaceResource(ds, res);
}

/**
 * Read-modify-write of one stored resource (patch, label): `change` gets the stored resource and
 * returns what to write, which is written as a compare-and-swap on the resourceVersion it was
 * read at. A concurrent writer makes it re-read and call `change` again on the newer version
 * (5 attempts, as replace), so nothing another writer did in between is overwritten. `change`
 * may throw to refuse; the datastore's own errors (not found, validation) pass through.
 */
export async function modifyResource(ds: Datastore, ref: ResourceRef, change: (stored: Resource) => Resource): Promise<Resource> {
  if (ref.kind === 'ClusterInformation') {
    throw new ResourceRejectedError('CLI_OPERATION_NOT_SUPPORTED', 'operation update is not supported on ClusterInformation: resource is readonly');
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
    const stored = await ds.get(ref);
    const next = change(stored);
    try {
      return await ds.update({ ...next, metadata: { ...next.metadata, resourceVersion: stored.metadata.resourceVersion } });
    } catch (err) {
      if (!hasCode(err, 'DATASTORE_CONFLICT')) throw err;
      lastError = err; // someone wrote in between: read the new version and try again
    }
  }
  throw lastError;
}

export async function deleteResource(ds: Datastore, ref: ResourceRef, resourceVersion?: string): Promise<Resource> {
  if (ref.kind === 'ClusterInformation') {
    throw new ResourceRejectedError('CLI_OPERATION_NOT_SUPPORTED', 'operation delete is not supported on ClusterInformation');
  }
  return ds.delete(ref, resourceVersion ? { resourceVersion } : undefined);
}

export function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function refuseReadOnly(res: Resource, operation: string): void {
  if (res.kind === 'ClusterInformation') {
    throw new ResourceRejectedError('CLI_OPERATION_NOT_SUPPORTED', `operation ${operation} is not supported on ClusterInformation`);
  }
}

function metadataForCreate(meta: ObjectMeta): ObjectMeta {
  const out: ObjectMeta = { name: meta.name };
  if (meta.namespace) out.namespace = meta.namespace;
  if (meta.labels) out.labels = meta.labels;
  if (meta.annotations) out.annotations = meta.annotations;
  return out;
}

/** The stored metadata wins, except labels and annotations, which are the file's (all or none). */
function mergeForUpdate(stored: Resource, incoming: Resource): Resource {
  const { labels: _l, annotations: _a, ...kept } = stored.metadata;
  const meta: ObjectMeta = { ...kept };
  if (incoming.metadata.labels) meta.labels = incoming.metadata.labels;
  if (incoming.metadata.annotations) meta.annotations = incoming.metadata.annotations;
  return withMetadata(incoming, meta);
}

function withMetadata(res: Resource, metadata: ObjectMeta): Resource {
  return { ...res, metadata };
}
