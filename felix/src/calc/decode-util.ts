/**
 * Small readers shared by the decoders: projected values are untyped JSON, so every field is
 * checked as it is read, and any failure becomes an InvalidResourceError naming the resource.
 */
import { parseIP, type CIDR } from '@cattail/api';
import type { ProjectedValue, Update } from '@cattail/typha/client';
import { InvalidResourceError } from '../errors.js';

export type Obj = Record<string, unknown>;
export type Labels = Readonly<Record<string, string>>;
/** An update that carries a value (not a deletion). */
export type Present = Update & { value: ProjectedValue };

export const NO_LABELS: Labels = Object.freeze({});

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function spec(value: ProjectedValue): Obj {
  return isObj(value.spec) ? value.spec : {};
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function resourceName(u: Update): string {
  return u.namespace ? `${u.kind} ${u.namespace}/${u.name}` : `${u.kind} ${u.name}`;
}

/** Runs a decoder, turning any failure into InvalidResourceError for `u`. */
export function guarded<T>(u: Update, f: () => T): T {
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
