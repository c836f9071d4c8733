/**
 * What every conversion returns, instead of throwing: a watcher converts thousands of objects it
 * does not control, and must count and log a bad one and carry on.
 *
 *   converted  the Calico resource, plus warnings for parts Calico also leaves out (a Kubernetes
 *              policy rule it cannot convert, a Node annotation its validator rejects)
 *   skipped    the object has no Calico counterpart by Calico's own rules (a host-network pod,
 *              a pod without an IP); `skip` says which rule, for counters
 *   failed     the object is malformed in a way Calico also refuses; `error` says what and where
 *
 * A `converted` resource has passed `validateResource` of `@cattail/api` (the `finish` gate
 * below), so the layers after the conversion can rely on it as they rely on a value read from
 * etcd.
 */
import { describeRef, validateResource, type Resource, type ResourceRef } from '@cattail/api';

export type SkipReason = 'host-network' | 'unscheduled' | 'finished' | 'no-ip' | 'no-service';

export interface Converted<R = Resource> {
  readonly outcome: 'converted';
  readonly resource: R;
  readonly warnings: readonly string[];
}

export interface Skipped {
  readonly outcome: 'skipped';
  readonly skip: SkipReason;
  readonly message: string;
}

export interface Failed {
  readonly outcome: 'failed';
  readonly error: string;
}

export type ConversionResult<R = Resource> = Converted<R> | Skipped | Failed;

/**
 * Thrown inside a conversion for malformed input and turned into `failed` by {@link convert};
 * it never leaves this folder.
 */
export class InputProblem extends Error {}

/** Thrown by a conversion to say the object has no Calico counterpart; turned into `skipped`. */
export class SkipSignal extends Error {
  constructor(
    readonly skip: SkipReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs one conversion with `what` (e.g. `Pod default/web-0`) as the prefix of every message. An
 * exception other than ours is a bug in the conversion; it is still returned as `failed`, so one
 * odd object cannot stop a watcher.
 */
export function convert<R>(what: string, body: () => Converted<R> | Skipped): ConversionResult<R> {
  try {
    return body();
  } catch (err) {
    if (err instanceof SkipSignal) return { outcome: 'skipped', skip: err.skip, message: `${what}: ${err.message}` };
    if (err instanceof InputProblem) return { outcome: 'failed', error: `${what}: ${err.message}` };
    return { outcome: 'failed', error: `${what}: internal error in the conversion: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The gate: a converted resource is one `@cattail/api` accepts, or the conversion fails. */
export function finish<R extends Resource>(resource: R, warnings: readonly string[]): Converted<R> {
  const issues = validateResource(resource);
  if (issues.length > 0) {
    const ref: ResourceRef = { kind: resource.kind, name: resource.metadata.name, namespace: resource.metadata.namespace };
    const list = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new InputProblem(`the converted ${describeRef(ref)} is not valid: ${list}`);
  }
  return { outcome: 'converted', resource, warnings };
}
