/**
 * How a syncer view is declared and produced: the resource a projection reads, the table type
 * that ties each view to its projection, and the few shapes and helpers the syncers share.
 *
 * A projection reads a `ValidResource<K>`: a resource of kind K that passed Typha's validation
 * stage, so its spec has the kind's `Validated` type (`@cattail/api`: the schema's types, with
 * null and '' allowed where the schema allows them as "unset"). Projections rely on that
 * guarantee and check nothing: they only choose fields. They never copy what they keep (the
 * dedupe map, the cache and every snapshot share the sub-objects), and they build their output
 * in a fixed key order, because the encoded bytes of a value are what clients compare.
 */
import type { KindName, KindSpecs, KindStatuses, ObjectMeta, Validated } from '@cattail/api';
import type { ProjectedValue } from '../messages.js';

export type Labels = Record<string, string>;

/**
 * `{spec: S}` when validation guarantees a spec (the kind's schema requires a field, so a
 * resource without one is invalid), else `{spec?: S}`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{} extends T`: T's keys are all optional
export type WithSpec<K extends KindName, S> = {} extends KindSpecs[K] ? { spec?: S } : { spec: S };

/** A resource of kind K as it leaves Typha's validation stage (see the module comment). */
export type ValidResource<K extends KindName> = {
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly status?: K extends keyof KindStatuses ? Validated<KindStatuses[K]> | null : unknown;
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{} extends T`: T's keys are all optional
} & ({} extends KindSpecs[K] ? { readonly spec?: Validated<KindSpecs[K]> | null } : { readonly spec: Validated<KindSpecs[K]> });

/** A syncer's views by kind: what each kind it carries looks like on the wire. */
export type ViewMap = { readonly [K in KindName]?: ProjectedValue };

/**
 * One projection per view, typed by it: a view without its projection, a projection for a kind
 * the syncer has no view of, or one whose result is not the view does not compile.
 */
export type Projections<V extends ViewMap> = { readonly [K in keyof V & KindName]: (res: ValidResource<K>) => V[K] };

/** The view of a kind whose whole spec a syncer reads. */
export type SpecView<K extends KindName> = WithSpec<K, Validated<KindSpecs[K]>>;
/** The view of a kind whose labels and whole spec a syncer reads. */
export type LabelsAndSpecView<K extends KindName> = { labels?: Labels } & WithSpec<K, Validated<KindSpecs[K]>>;

/** An IPAM block as routing reads it (Felix's routes, confd's blackholes): CIDR and affinity. */
export type BlockRouteView = { spec: Pick<Validated<KindSpecs['IPAMBlock']>, 'cidr' | 'affinity'> };

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{} extends T`: T's keys are all optional
type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];

/** A Pick that is certainly there when it names a field `T` requires. */
type Picked<T, F extends keyof T> = [F & RequiredKeys<T>] extends [never] ? Pick<T, F> | undefined : Pick<T, F>;

/** The listed fields of `src` that are present, or undefined when none is. */
export function pick<T extends object, const F extends keyof T>(src: T, fields: readonly F[]): Picked<T, F>;
export function pick<T extends object, const F extends keyof T>(src: T | null | undefined, fields: readonly F[]): Pick<T, F> | undefined;
export function pick<T extends object, const F extends keyof T>(src: T | null | undefined, fields: readonly F[]): Pick<T, F> | undefined {
  if (src === null || src === undefined) return undefined;
  let out: Partial<Pick<T, F>> | undefined;
  for (const f of fields) {
    const v = src[f];
    if (v !== undefined) (out ??= {} as Partial<Pick<T, F>>)[f] = v;
  }
  // A validated value has every field its type requires, so what was found is the whole Pick.
  return out as Pick<T, F> | undefined;
}

/** The resource's labels, or undefined when it has none. */
export function labelsOf(res: { readonly metadata: ObjectMeta }): Labels | undefined {
  const l = res.metadata.labels;
  if (typeof l !== 'object' || l === null) return undefined;
  for (const _ in l) return l;
  return undefined;
}

/** `{labels?, spec?}` with absent parts left out (not set to undefined), labels first. */
export function view<S extends object>(labels: Labels | undefined, spec: S): { labels?: Labels; spec: S };
export function view<S extends object>(labels: Labels | undefined, spec: S | null | undefined): { labels?: Labels; spec?: S };
export function view<S extends object>(labels: Labels | undefined, spec: S | null | undefined): { labels?: Labels; spec?: S } {
  const v: { labels?: Labels; spec?: S } = {};
  if (labels) v.labels = labels;
  if (spec) v.spec = spec;
  return v;
}

// The two below are generic in the kind, so the compiler cannot follow `WithSpec` inside them;
// for each kind a table instantiates them with, the spec is there exactly when it must be.

export function specOnly<K extends KindName>(res: ValidResource<K>): SpecView<K> {
  return view(undefined, res.spec) as SpecView<K>;
}

export function labelsAndSpec<K extends KindName>(res: ValidResource<K>): LabelsAndSpecView<K> {
  return view(labelsOf(res), res.spec) as LabelsAndSpecView<K>;
}

/**
 * Calico sends whole blocks to Felix and confd; their route code reads only `cidr` and
 * `affinity`. Allocations, attributes, handles and sequence numbers change with every pod start
 * and stop, so projecting them away is what keeps IPAM churn from waking every Felix and confd.
 * Borrowed addresses still get routes: Felix learns them from WorkloadEndpoints.
 */
export function blockRoute(res: ValidResource<'IPAMBlock'>): BlockRouteView {
  return view(undefined, pick(res.spec, ['cidr', 'affinity']));
}
