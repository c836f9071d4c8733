/**
 * The etcd-mode sync controllers of calico-kube-controllers: `namespace` (Namespace → Profile
 * `kns.<ns>`), `serviceaccount` (ServiceAccount → Profile `ksa.<ns>.<sa>`), `policy`
 * (networking.k8s.io NetworkPolicy → NetworkPolicy `knp.default.<name>`) and `workloadendpoint`
 * (a pod's labels onto the WorkloadEndpoint the CNI plugin wrote; labels only, never a create or
 * a delete: the plugin owns the endpoint). On the Kubernetes datastore these are derived on
 * every read; on etcd someone must write them, and this is it.
 *
 *   KubeDatastore.watchKind(source) ──puts/deletes──▶ desired: Map<etcd key, Resource>
 *                                                       │ (debounced; again every period)
 *   etcd list of the kind ──────────────────────────────┴─▶ reconcile: create what is missing,
 *                                                           update what differs (spec, labels),
 *                                                           delete what we own and is not desired
 *
 * A full reconcile of desired against etcd, rather than one write per event, makes every case
 * the same (a missed delete while not leader, a resource edited by hand, a restart): the state
 * of etcd converges on the conversions of what the API server has. "What we own" is the name
 * prefix the conversion gives (`kns.`, `ksa.`, `knp.default.`), exactly the names Calico's
 * controllers own, so hand-written Profiles and policies are never touched. The conversions are
 * `@cattail/datastore`'s kdd ones, the same the Kubernetes datastore serves, so both modes show
 * one cluster identically. Writes carry the resourceVersion read (a lost race re-runs the
 * reconcile). Nothing is deleted before the watch has delivered its first list.
 */
import type { Resource } from '@cattail/api';
import { AlreadyExistsError, ConflictError, NotFoundError, type Datastore, type WatchEvent, type WatchHandle } from '@cattail/datastore';
import { kdd } from '@cattail/datastore';
import { jsonEqual, realClock, silentLogger, type Clock, type Logger } from '@cattail/typha/common';
import { SerialRunner } from './serial-runner.js';

export interface SyncTarget {
  /** Calico's controller name (namespace, serviceaccount, policy, workloadendpoint), or node-labels for the node controller's label sync. */
  readonly controller: string;
  readonly source: () => kdd.KubeSource;
  /** The Calico kind written to etcd. */
  readonly kind: 'Profile' | 'NetworkPolicy' | 'WorkloadEndpoint' | 'Node';
  /** Names this controller owns in etcd. */
  readonly owns: (name: string) => boolean;
  /** Only the labels of resources someone else writes (the CNI plugin's endpoints): never a create or a delete. */
  readonly labelsOnly?: boolean;
  /** labelsOnly: the resource to write given what etcd has and what is wanted, or undefined for no change (default: the wanted labels replace all). */
  readonly merge?: (have: Resource, want: Resource) => Resource | undefined;
  /** How an etcd resource is matched to a wanted one (default `<namespace>/<name>`). */
  readonly idOf?: (r: Resource) => string;
}

/** The annotation in which the node label sync remembers the Kubernetes labels it copied (Calico's). */
export const KUBE_LABELS_ANNOTATION = 'projectcalico.org/kube-labels';

/**
 * Calico's node label sync (etcd datastore): the Kubernetes Node's labels onto the Calico Node,
 * keeping labels set on the Calico Node by hand. The labels copied last time are remembered in
 * an annotation, so a label removed in Kubernetes is removed here too, and only then.
 */
export function mergeKubeLabels(have: Resource, want: Resource): Resource | undefined {
  const kubeLabels = want.metadata.labels ?? {};
  let before: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(have.metadata.annotations?.[KUBE_LABELS_ANNOTATION] ?? '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) before = parsed as Record<string, string>;
  } catch {
    // A corrupt annotation: nothing is known to be ours; Kubernetes' labels are still copied.
  }
  const labels = { ...(have.metadata.labels ?? {}) };
  for (const k of Object.keys(before)) if (!(k in kubeLabels)) delete labels[k];
  Object.assign(labels, kubeLabels);
  const annotations = { ...(have.metadata.annotations ?? {}), [KUBE_LABELS_ANNOTATION]: JSON.stringify(kubeLabels) };
  if (jsonEqual(labels, have.metadata.labels ?? {}) && jsonEqual(annotations, have.metadata.annotations ?? {})) return undefined;
  const metadata = { ...have.metadata, annotations };
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  else delete metadata.labels;
  return { ...have, metadata };
}

/** A Kubernetes Node as the label sync wants it: its name and labels only. */
function nodeLabelsSource(): kdd.KubeSource {
  const nodes = kdd.nodeSource();
  return {
    ...nodes,
    decode(obj) {
      const meta = (obj as { metadata?: { name?: unknown; labels?: unknown } }).metadata;
      if (typeof meta?.name !== 'string') return { outcome: 'failed', message: 'a Node without a name' };
      const labels = meta.labels && typeof meta.labels === 'object' ? (meta.labels as Record<string, string>) : {};
      return {
        outcome: 'resource',
        key: meta.name,
        resource: { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: meta.name, labels: { ...labels } } },
      };
    },
  };
}

/** The Kubernetes node a Calico Node stands for: its k8s orchRef, else its own name (as Calico's getCalicoNode). */
function kubeNodeOf(r: Resource): string {
  const refs = (r.spec as { orchRefs?: Array<{ nodeName?: string; orchestrator?: string }> } | undefined)?.orchRefs ?? [];
  return `/${refs.find((o) => o.orchestrator === 'k8s' && o.nodeName)?.nodeName ?? r.metadata.name}`;
}

export const SYNC_TARGETS: Readonly<Record<string, SyncTarget>> = {
  namespace: { controller: 'namespace', source: kdd.namespaceSource, kind: 'Profile', owns: (n) => n.startsWith('kns.') },
  serviceaccount: { controller: 'serviceaccount', source: kdd.serviceAccountSource, kind: 'Profile', owns: (n) => n.startsWith('ksa.') },
  policy: { controller: 'policy', source: kdd.k8sPolicySource, kind: 'NetworkPolicy', owns: (n) => n.startsWith('knp.default.') },
  workloadendpoint: {
    controller: 'workloadendpoint',
    source: () => kdd.podSource(),
    kind: 'WorkloadEndpoint',
    owns: (n) => n.includes('-k8s-'),
    labelsOnly: true,
  },
  /** Not a controller of its own: the node controller's label sync (SYNC_NODE_LABELS), etcd only. */
  nodelabels: {
    controller: 'node-labels',
    source: nodeLabelsSource,
    kind: 'Node',
    owns: () => true,
    labelsOnly: true,
    merge: mergeKubeLabels,
    idOf: kubeNodeOf,
  },
};

export interface KubeToEtcdSyncOptions {
  reconcilePeriodMs?: number;
  debounceMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface SyncStatus {
  readonly controller: string;
  readonly synced: boolean;
  readonly desired: number;
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly errors: number;
}

/** The default labels-only merge: the wanted labels replace the resource's. */
function replaceLabels(have: Resource, want: Resource): Resource | undefined {
  if (jsonEqual(have.metadata.labels ?? {}, want.metadata.labels ?? {})) return undefined;
  return { ...have, metadata: { ...have.metadata, labels: { ...want.metadata.labels } } };
}

/** What is compared and written: the parts the conversion decides. */
function essence(r: Resource): Resource {
  const metadata: Resource['metadata'] = { name: r.metadata.name };
  if (r.metadata.namespace !== undefined) metadata.namespace = r.metadata.namespace;
  if (r.metadata.labels && Object.keys(r.metadata.labels).length > 0) metadata.labels = { ...r.metadata.labels };
  return { apiVersion: r.apiVersion, kind: r.kind, metadata, spec: r.spec };
}

export class KubeToEtcdSync {
  readonly #kube: kdd.KubeDatastore;
  readonly #etcd: Datastore;
  readonly #target: SyncTarget;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #periodMs: number;
  readonly #debounceMs: number;
  readonly #desired = new Map<string, Resource>();
  #watch: WatchHandle | undefined;
  #listed = false;
  readonly #runner: SerialRunner;
  #synced = false;
  #counts = { created: 0, updated: 0, deleted: 0, errors: 0 };

  constructor(kube: kdd.KubeDatastore, etcd: Datastore, target: SyncTarget, opts: KubeToEtcdSyncOptions = {}) {
    this.#kube = kube;
    this.#etcd = etcd;
    this.#target = target;
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.logger ?? silentLogger).child({ controller: target.controller });
    this.#periodMs = opts.reconcilePeriodMs ?? 5 * 60_000;
    this.#debounceMs = opts.debounceMs ?? 100;
    this.#runner = new SerialRunner(() => this.#pass(), {
      clock: this.#clock,
      soonMs: this.#debounceMs,
      nextMs: () => this.#periodMs,
      onError: (err) => {
        this.#counts.errors++;
        this.#log.warn({ err }, 'reconcile failed; retrying');
        return true;
      },
    });
  }

  status(): SyncStatus {
    return { controller: this.#target.controller, synced: this.#synced, desired: this.#desired.size, ...this.#counts };
  }

  start(): void {
    if (this.#runner.start()) this.#startWatch();
  }

  /** A fresh watch: nothing is reconciled (nor deleted) before it delivered its first list. */
  #startWatch(): void {
    this.#listed = false;
    this.#synced = false;
    this.#desired.clear();
    this.#watch = this.#kube.watchKind(
      this.#target.source(),
      {
        onEvents: (events) => this.#apply(events),
        onError: (err) => {
          this.#counts.errors++;
          this.#log.error({ err }, 'the watch stopped; restarting it');
          this.#watch?.close();
          if (!this.#runner.stopped) this.#startWatch();
        },
      },
      { onProblem: (source, message) => this.#log.warn({ source, problem: message }, 'a Kubernetes object could not be converted; skipped') },
    );
  }

  async stop(): Promise<void> {
    const stopped = this.#runner.stop(); // marks it stopped at once: no watch restarts from here
    this.#watch?.close();
    this.#watch = undefined;
    await stopped;
  }

  /** Reconcile now; runs never overlap, a call during one runs another after. */
  tick(): void {
    this.#runner.now();
  }

  /** One run: nothing before the watch's first list. */
  async #pass(): Promise<void> {
    if (!this.#listed) return;
    await this.#reconcile();
    this.#synced = true;
  }

  #apply(events: readonly WatchEvent[]): void {
    for (const e of events) {
      if (e.type === 'put' && e.resource) this.#desired.set(e.key, essence(e.resource));
      else this.#desired.delete(e.key);
    }
    this.#listed = true; // the first batch is the initial list
    this.#runner.soon();
  }

  async #reconcile(): Promise<void> {
    const { kind, owns } = this.#target;
    const actual = new Map<string, Resource>();
    const idOf = this.#target.idOf ?? ((r: Resource) => `${r.metadata.namespace ?? ''}/${r.metadata.name}`);
    for (const r of (await this.#etcd.list(kind)).items) if (owns(r.metadata.name)) actual.set(idOf(r), r);
    const desired = new Map([...this.#desired.values()].map((r) => [`${r.metadata.namespace ?? ''}/${r.metadata.name}`, r]));
    if (this.#target.labelsOnly) {
      const merge = this.#target.merge ?? replaceLabels;
      for (const [id, want] of desired) {
        const have = actual.get(id);
        const next = have && merge(have, want);
        if (next) await this.#write('update', next, () => this.#etcd.update(next));
      }
      return;
    }
    for (const [id, want] of desired) {
      const have = actual.get(id);
      if (!have) {
        await this.#write('create', want, () => this.#etcd.create(want));
      } else if (!jsonEqual(essence(have).spec, want.spec) || !jsonEqual(essence(have).metadata.labels ?? {}, want.metadata.labels ?? {})) {
        await this.#write('update', want, () => this.#etcd.update({ ...want, metadata: { ...want.metadata, resourceVersion: have.metadata.resourceVersion } }));
      }
    }
    for (const [id, have] of actual) {
      if (desired.has(id)) continue;
      await this.#write('delete', have, () =>
        this.#etcd.delete({ kind, name: have.metadata.name, namespace: have.metadata.namespace }, { resourceVersion: have.metadata.resourceVersion }),
      );
    }
  }

  async #write(op: 'create' | 'update' | 'delete', r: Resource, fn: () => Promise<unknown>): Promise<void> {
    if (this.#runner.stopped) return; // stopped mid-reconcile (the lead may be lost): no further change
    try {
      await fn();
    } catch (err) {
      // Someone else wrote or deleted it since our list: the next run sees the new state.
      if (err instanceof AlreadyExistsError || err instanceof ConflictError || err instanceof NotFoundError) {
        this.#runner.again();
        return;
      }
      throw err;
    }
    this.#counts[op === 'create' ? 'created' : op === 'update' ? 'updated' : 'deleted']++;
    this.#log.info({ kind: r.kind, name: r.metadata.name, namespace: r.metadata.namespace }, `${op}d in etcd`);
  }
}
