/**
 * Typed syncer views: for each syncer type, the kinds it carries and what each looks like on
 * the wire, with the projection that makes it from a validated resource. Typha's pipeline
 * projects with this table; Felix and confd receive `SyncerUpdate<'felix'>` and
 * `SyncerUpdate<'bgp'>` from their SyncClient and read the views as they are. The compiler
 * checks the seam end to end:
 *
 *   @cattail/api KindSpecs ─▶ views/<syncer>.ts: view + projection ─▶ SyncerUpdate<syncer> ─▶ agent
 *     (spec types)              (a view without its projection,           (switch on `kind`
 *                                 or a projection that does not             narrows `value`
 *                                 make the view, does not compile)          to that view)
 *
 * Adding a kind to a syncer is one entry in its file here (view and projection side by side),
 * then the agent's handling of it; an agent whose switch is exhaustive fails to compile until
 * it does.
 *
 * What each layer relies on:
 *   - projections: the value passed Typha's validation stage (`ValidResource`), so they check
 *     nothing and only choose fields;
 *   - agents: the value is the view Typha produced for their syncer, so they read typed fields
 *     instead of probing JSON; the one cast is in SyncClient, which trusts its Typha (as an agent
 *     trusts whatever Typha tells it), and the protocol parser has already checked the
 *     update's envelope (kind, name, revision; value an object).
 *
 * The wire is unchanged: a view is plain data and the codecs encode it as any `ProjectedValue`,
 * so the cache, the fan-out and older clients never see these types.
 *
 * Upgrade rules: a view may gain fields and a syncer may gain kinds (an older agent ignores
 * both: its switch has a default for kinds it does not know); a field an agent reads keeps its
 * name and type, or the change goes behind a feature flag (`docs/PROTOCOL.md`). The
 * Kubernetes-native kinds have no Cattail kind yet; the kinds no syncer carries are listed, with
 * the reason, in {@link NOT_SYNCED}.
 */
import type { KindName, Resource } from '@cattail/api';
import type { ProjectedValue, SyncerType } from '../messages.js';
import { BGP_PROJECTIONS, type BgpViews } from './bgp.js';
import { FELIX_PROJECTIONS, type FelixViews } from './felix.js';
import { IPAM_PROJECTIONS, type IpamViews } from './ipam.js';
import type { Projections, ViewMap } from './projection.js';
import { STATUS_PROJECTIONS, type StatusViews } from './status.js';

export type { FelixViews } from './felix.js';
export type { BgpViews } from './bgp.js';
export type { IpamViews } from './ipam.js';
export type { StatusViews } from './status.js';
export type { Labels, Projections, ValidResource, ViewMap } from './projection.js';

type EverySyncer<T extends { readonly [S in SyncerType]: ViewMap }> = T;

/** Every syncer's views, by syncer type. */
export type Views = EverySyncer<{ felix: FelixViews; bgp: BgpViews; ipam: IpamViews; status: StatusViews }>;

/** The kinds syncer S carries. */
export type KindOf<S extends SyncerType> = keyof Views[S] & KindName;

/** What syncer S sends for kind K. */
export type ViewOf<S extends SyncerType, K extends KindOf<S>> = Views[S][K];

/** An update of kind K as syncer S sends it: the wire `Update` with `kind` and `value` typed. */
export type KindUpdate<S extends SyncerType, K extends KindOf<S>> =
  K extends KindOf<S> ? { kind: K; name: string; namespace?: string; revision: number; value?: ViewOf<S, K> } : never;

/**
 * Any update syncer S sends: a union discriminated by `kind`, so `switch (u.kind)` narrows
 * `u.value` to that kind's view. Assignable to `Update`.
 */
export type SyncerUpdate<S extends SyncerType = SyncerType> = UpdatesBySyncer[S];

// Indexed rather than a conditional on S, so that SyncerUpdate<'felix'> is a SyncerUpdate (and
// a SyncClient<'felix'> a SyncClient): the compiler can tell the type is covariant in S.
type UpdatesBySyncer = { [S in SyncerType]: KindUpdate<S, KindOf<S>> };

/**
 * Registered kinds no syncer carries, and why. Checked against Calico's syncers: its felix
 * syncer does carry the staged Calico policies (as `staged:` policies that feed flow logs with
 * what they would have done, never enforced); Cattail's Felix writes no flow logs, so sending
 * them would only wake every Felix for nothing.
 */
export const NOT_SYNCED: Readonly<Record<string, string>> = Object.freeze({
  KubeControllersConfiguration: 'read by calico-kube-controllers from the datastore, not through Typha',
  CalicoNodeStatus: 'watched by calico/node itself (its status reporter), not through Typha',
  StagedNetworkPolicy: 'never enforced; Calico sends staged policies to Felix only for flow logs',
  StagedGlobalNetworkPolicy: 'never enforced; Calico sends staged policies to Felix only for flow logs',
  StagedKubernetesNetworkPolicy: 'never enforced; Calico sends staged policies to Felix only for flow logs',
});

/** Each syncer's projections, typed by its views. */
export const VIEW_PROJECTIONS: { readonly [S in SyncerType]: Projections<Views[S]> } = Object.freeze({
  felix: FELIX_PROJECTIONS,
  bgp: BGP_PROJECTIONS,
  ipam: IPAM_PROJECTIONS,
  status: STATUS_PROJECTIONS,
});

/** A projection as the pipeline calls it: any kind's validated resource in, wire value out. */
export type Projection = (res: Resource) => ProjectedValue;

/** Per syncer, kind → projection (a Map: a kind named `constructor` is not a kind). */
export type ProjectionTable = Readonly<Record<SyncerType, ReadonlyMap<string, Projection>>>;

export interface ProjectionOptions {
  /**
   * Send WorkloadEndpoints (labels, node, ipNetworks) on the bgp syncer, for confd's
   * `localWorkloadSelector` peerings (TYPHA_BGPSYNCERWORKLOADENDPOINTS). Off by default: every
   * pod start and stop would otherwise reach every confd, and the bgp snapshot would grow with
   * the pod count, for a feature few clusters use.
   */
  readonly bgpWorkloadEndpoints?: boolean;
}

/**
 * VIEW_PROJECTIONS keyed by the wire's `kind` string, without the kinds the options leave out.
 * Widening each projection to `Projection` is sound for the pipeline's one use: it looks a
 * projection up by the update's kind and calls it with that update's resource, which the
 * validation stage has checked is of that kind and valid.
 */
export function projectionTable(options: ProjectionOptions = {}): ProjectionTable {
  return Object.freeze({
    felix: table(VIEW_PROJECTIONS.felix),
    bgp: table(VIEW_PROJECTIONS.bgp, options.bgpWorkloadEndpoints === true ? [] : ['WorkloadEndpoint']),
    ipam: table(VIEW_PROJECTIONS.ipam),
    status: table(VIEW_PROJECTIONS.status),
  });
}

/** Typha's default table (see ProjectionOptions). */
export const PROJECTIONS: ProjectionTable = projectionTable();

function table(projections: object, without: readonly string[] = []): ReadonlyMap<string, Projection> {
  return new Map((Object.entries(projections) as Array<[string, Projection]>).filter(([kind]) => !without.includes(kind)));
}

/** The kinds a syncer receives, for `/status` and docs. */
export function syncerKinds(syncer: SyncerType, projections: ProjectionTable = PROJECTIONS): string[] {
  return [...projections[syncer].keys()];
}
