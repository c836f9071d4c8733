// The lab on the Kubernetes datastore, all real: a kube-apiserver over the lab's etcd with
// Calico's CRDs, Namespaces, Nodes and Pods as Kubernetes objects, the CNI plugin in KDD mode
// (pod read from the API server, IPAM in CRDs, the pod's IP annotations), two Typhas with one
// list+watch per collection, Felix, confd and BIRD per node. Every pod reaches every other; a
// Kubernetes NetworkPolicy (networking.k8s.io/v1) blocks exactly frontend → backend within 2 s
// of `kubectl apply`, and deleting it restores everything; a Calico GlobalNetworkPolicy (a CRD)
// does the same; with a Typha replica killed, a policy still takes effect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { requireTools, REQUIRED_TOOLS } from '../../src/index.js';
import { apply, BACKEND_FROM_FRONTEND, diagnose, frontToBack, matrixBecomes, pingBecomes, pod, pods, startLab } from './harness.js';

const all = () => true;

/** Ingress into every backend pod only from namespaces labelled role=backend. */
const K8S_BACKEND_ONLY = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'backend-only', namespace: 'backend' },
  spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { role: 'backend' } } }] }] },
};

test(
  'Kubernetes datastore: pods are Pods, a Kubernetes NetworkPolicy and a Calico policy each block exactly frontend → backend',
  { timeout: 420_000 },
  async (t) => {
    requireTools(REQUIRED_TOOLS);
    const lab = await startLab(t, { nodes: 2, podsPerNode: 2, mode: 'bgp', datastore: 'kubernetes' });
    await diagnose(lab, async () => {
      const status = await lab.status();
      assert.equal(status.datastore, 'kubernetes');
      assert.ok(status.kubeconfig && existsSync(status.kubeconfig), `kubeconfig ${status.kubeconfig}`);
      for (const n of status.nodes) assert.equal(n.endpoints.length, 2, `${n.name}: endpoints ${JSON.stringify(n.endpoints)}`);

      // The lab's pods are Pods on their nodes, with the addresses the CNI plugin gave them.
      const listed = JSON.parse(await lab.kubectl(['get', 'pods', '-A', '-o', 'json'])) as {
        items: Array<{
          metadata: { namespace: string; name: string; annotations?: Record<string, string> };
          spec: { nodeName: string };
          status: { podIP?: string };
        }>;
      };
      assert.equal(listed.items.length, pods(lab).length);
      for (const p of pods(lab)) {
        const k = listed.items.find((i) => i.metadata.namespace === p.namespace && i.metadata.name === p.name);
        assert.ok(k, `no Pod ${p.namespace}/${p.name}`);
        assert.equal(k.spec.nodeName, p.node);
        assert.equal(k.status.podIP, p.ip);
        assert.equal(k.metadata.annotations?.['cni.projectcalico.org/podIP'], `${p.ip}/32`);
      }
      await matrixBecomes(lab, all, 'full reachability', 30_000);

      // A Kubernetes NetworkPolicy, applied with kubectl: enforced within 2 s, exactly frontend → backend.
      const web = pod(lab, 'web-1-1');
      const db = pod(lab, 'db-2-2');
      const written = Date.now();
      await lab.kubectl(['apply', '-f', '-'], JSON.stringify(K8S_BACKEND_ONLY));
      const took = await pingBecomes(web, db, false, written, 2_000);
      assert.ok(took <= 2_000, `enforced after ${took} ms`);
      await matrixBecomes(lab, frontToBack, 'the Kubernetes NetworkPolicy blocks only frontend → backend');
      await lab.kubectl(['delete', 'networkpolicy', '-n', 'backend', 'backend-only']);
      await matrixBecomes(lab, all, 'full reachability after deleting the Kubernetes NetworkPolicy');

      // A Calico GlobalNetworkPolicy (kept as a CRD object), with one Typha replica dead.
      assert.ok(await lab.killTypha(1));
      const at = Date.now();
      await apply(lab, BACKEND_FROM_FRONTEND);
      await pingBecomes(web, db, false, at, 10_000);
      await matrixBecomes(lab, frontToBack, 'the GlobalNetworkPolicy blocks only frontend → backend');
      await lab.datastore().delete({ kind: 'GlobalNetworkPolicy', name: BACKEND_FROM_FRONTEND.metadata.name });
      await matrixBecomes(lab, all, 'full reachability after deleting the GlobalNetworkPolicy');
      await lab.startTypha(1);
    });
  },
);
