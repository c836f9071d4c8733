/**
 * What the decoders share: the felix syncer's typed updates and a few small helpers.
 *
 * The decoders read the views Typha declares (`@cattail/typha/protocol`, views/felix.ts) as they
 * are: the SyncClient delivers `SyncerUpdate<'felix'>`, whose value passed Typha's validation
 * before it was projected, so a field has its schema's type (or is unset: absent, null, or '' for
 * a string). Nothing is type-checked again here. What remains of failure is parsing text the
 * validator accepted but a parser here does not (it should not happen); `guarded` turns that into
 * an InvalidResourceError naming the resource, which the graph treats as a deletion.
 */
import { parseIP, type CIDR } from '@cattail/api';
import type { KindOf, KindUpdate, SyncerUpdate, ViewOf } from '@cattail/typha/protocol';
import { InvalidResourceError } from '../errors.js';

export type Labels = Readonly<Record<string, string>>;

/** An update as the felix syncer sends it. */
export type FelixUpdate = SyncerUpdate<'felix'>;
export type FelixKind = KindOf<'felix'>;

/** An update of kind K (or of each kind in a union K) that carries a value (not a deletion). */
export type Present<K extends FelixKind = FelixKind> = K extends FelixKind ? KindUpdate<'felix', K> & { value: ViewOf<'felix', K> } : never;

export const NO_LABELS: Labels = Object.freeze({});

/** Whether `u` carries a value; narrows it to a Present update of its kind. */
export function isPresent<U extends FelixUpdate>(u: U): u is U & { value: NonNullable<U['value']> } {
  return u.value !== undefined;
}

const NO_SPEC = Object.freeze({});

/** The view's spec, or an empty one when the resource has none (every field of such a spec is optional). */
export function specOf<S extends object>(value: { spec?: S }): Partial<S> {
  return value.spec ?? NO_SPEC;
}

/**
 * A validated string map (labelsToApply, a rule's annotations) as labels. Validation lets a null
 * map value through, as Go's decoder does; no Kubernetes or Calico writer produces one in a
 * label map, and Felix passes such a map on as it is, like the resource's own `labels`.
 */
export function asLabels(m: Readonly<Record<string, string | null>>): Labels {
  return m as Labels;
}

function resourceName(u: Pick<FelixUpdate, 'kind' | 'name' | 'namespace'>): string {
  return u.namespace ? `${u.kind} ${u.namespace}/${u.name}` : `${u.kind} ${u.name}`;
}

/** Runs a decoder, turning any failure into InvalidResourceError for `u`. */
export function guarded<T>(u: Pick<FelixUpdate, 'kind' | 'name' | 'namespace'>, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof InvalidResourceError) throw err;
    throw new InvalidResourceError(resourceName(u), err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** A bare address as a host CIDR (/32, /128). */
export function hostCIDR(text: string): CIDR | undefined {
  const ip = parseIP(text);
  return ip ? { version: ip.version, addr: ip, prefix: ip.version === 4 ? 32 : 128 } : undefined;
}

export function fail(message: string): never {
  throw new Error(message);
}
