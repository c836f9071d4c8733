/**
 * The pods of a `--engine kubernetes` lab as the probe needs them: from the API server (every
 * Running pod with an address of its own, not on the host network), each with a way into its
 * network namespace that needs nothing inside the pod's image: a process of the pod, found in
 * the pod's cgroup (`<lab>/<node>/kubepods/[<qos>/]pod<uid>/…`, the kubelet's cgroupfs layout
 * under its --cgroup-root), whose /proc/<pid>/ns/net the probe enters with nsenter and the
 * host's own ping.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LabContext } from './context.js';
import { cgroupMounts, cgroupPids } from './cgroups.js';
import { labKubectl } from './kube.js';
import type { PodRecord } from './state.js';

interface PodObject {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> };
  spec: { nodeName?: string; hostNetwork?: boolean };
  status: { phase?: string; podIP?: string };
}

/** The pod cgroup's path below the mounts (`/<prefix>/<node>/kubepods/…/pod<uid>`), or undefined. */
export function podCgroup(prefix: string, node: string, uid: string): string | undefined {
  const want = `pod${uid}`;
  for (const mount of cgroupMounts()) {
    const base = join(mount, prefix, node, 'kubepods');
    if (!existsSync(base)) continue;
    // Guaranteed pods sit directly under kubepods, the others under their QoS class.
    for (const rel of ['', 'burstable', 'besteffort']) {
      if (existsSync(join(base, rel, want))) return `/${join(prefix, node, 'kubepods', rel, want)}`;
    }
  }
  return undefined;
}

/** Running, addressed, pod-network pods, with `netns` a /proc/<pid>/ns/net path (pods whose processes are not found are left out). */
export async function kubePods(ctx: LabContext): Promise<PodRecord[]> {
  const list = JSON.parse(await labKubectl(ctx.dir, ['get', 'pods', '-A', '-o', 'json'])) as { items: PodObject[] };
  const out: PodRecord[] = [];
  for (const p of list.items) {
    if (p.spec.hostNetwork || p.status.phase !== 'Running' || !p.status.podIP || !p.spec.nodeName) continue;
    const cg = podCgroup(ctx.names.prefix, p.spec.nodeName, p.metadata.uid);
    const pid = cg === undefined ? undefined : cgroupPids(cg).find((x) => existsSync(`/proc/${x}/ns/net`));
    if (pid === undefined) continue;
    out.push({
      name: p.metadata.name,
      namespace: p.metadata.namespace,
      node: p.spec.nodeName,
      netns: `/proc/${pid}/ns/net`,
      containerId: p.metadata.uid,
      labels: p.metadata.labels ?? {},
      ip: p.status.podIP,
    });
  }
  return out.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}
