/**
 * What each kind declares for validation, in `api/src/kinds/<kind>.ts`: the schema of its spec,
 * its name rule, Calico's create-time defaults and its cross-field rules. The validation entry
 * points (`index.ts`) only walk these declarations; nothing kind-specific lives there.
 *
 * Defaults and rules receive data that may be of any shape (a value read from etcd, or a
 * document whose type errors are reported separately), so they read it through the narrowing
 * helpers below and skip what is not of the expected type rather than report it twice.
 */
import type { ValidationIssue } from '../errors.js';
import { isPlainObject, type Resource } from '../resource.js';
import type { ObjS, Schema } from './schema.js';

export type Spec = Record<string, unknown>;

/** A resource whose `spec` has been checked to be an object. */
export type WithSpec = Resource<Spec> & { spec: Spec };

export interface KindDef {
  readonly kind: string;
  readonly spec: ObjS;
  /** The kind's `status`, where Calico's Go type has one; otherwise `status` is an unknown field. */
  readonly status?: Schema;
  /** The name rule: a message when `name` is not acceptable. Default: a DNS-1123 subdomain. */
  readonly name?: (name: string, res: Resource) => string | undefined;
  /**
   * Calico's create-time defaults, applied to a copy in place. Must be idempotent. Kinds whose
   * name Calico derives from the spec (WorkloadEndpoint, IPAM records) fill it in here.
   */
  readonly defaults?: (res: WithSpec) => void;
  /** Rules across fields, and anything the schema cannot say. */
  readonly rules?: (res: WithSpec, issues: ValidationIssue[]) => void;
}

export function asObject(v: unknown): Record<string, unknown> | undefined {
  return isPlainObject(v) ? v : undefined;
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function asString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** True when a field is set to something other than an empty string, list or object. */
export function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}
