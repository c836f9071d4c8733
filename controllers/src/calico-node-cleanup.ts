/**
 * etcd mode: a Calico Node whose Kubernetes Node is gone is deleted, as calico-kube-controllers'
 * node controller does on etcd (on the Kubernetes datastore the Calico Node is the Kubernetes
 * Node, so there is nothing to delete). Only Calico Nodes that name a Kubernetes node in
 * `orchRefs` (orchestrator `k8s`) are touched: one registered by hand or by another orchestrator
 * is left alone. The delete carries the resourceVersion listed, so a Node re-registered
 * meanwhile survives. Its IPAM is the garbage collector's business (same sweep, ipam-gc.ts).
 */
import type { Resource } from '@cattail/api';
import { ConflictError, NotFoundError, type Datastore } from '@cattail/datastore';
import type { Logger } from '@cattail/typha/common';

/** The Kubernetes node a Calico Node stands for, if it names one. */
export function k8sNodeOf(node: Resource): string | undefined {
  const refs = (node.spec as { orchRefs?: Array<{ orchestrator?: string; nodeName?: string }> } | undefined)?.orchRefs ?? [];
  const ref = refs.find((r) => r.orchestrator === 'k8s');
  return ref ? ref.nodeName || node.metadata.name : undefined;
}

/** Calico Nodes naming a Kubernetes node that `exists` says is gone; returns the names deleted. */
export async function deleteOrphanedCalicoNodes(ds: Datastore, exists: () => Promise<ReadonlySet<string>>, log: Logger): Promise<string[]> {
  const orphans = (await ds.list('Node')).items.filter((n) => k8sNodeOf(n) !== undefined);
  if (orphans.length === 0) return [];
  const nodes = await exists();
  const deleted: string[] = [];
  for (const n of orphans) {
    const k8s = k8sNodeOf(n)!;
    if (nodes.has(k8s)) continue;
    try {
      await ds.delete({ kind: 'Node', name: n.metadata.name }, { resourceVersion: n.metadata.resourceVersion });
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof ConflictError) continue;
      throw err;
    }
    deleted.push(n.metadata.name);
    log.info({ node: n.metadata.name, k8sNode: k8s }, 'deleted the Calico Node of a deleted Kubernetes node');
  }
  return deleted;
}
