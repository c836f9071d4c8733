/**
 * Typed reads of untrusted JSON. Each returns undefined for an absent (or null) field and throws
 * {@link InputProblem} naming the field when it is present with the wrong type, so a conversion
 * reads `str(meta.name, 'metadata.name')` and never trips over a number where a string belongs.
 */
import { isPlainObject } from '@cattail/api';
import { InputProblem } from './result.js';

function kindOf(v: unknown): string {
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`;
}

export function obj(v: unknown, path: string): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) throw new InputProblem(`${path} must be an object, not ${kindOf(v)}`);
  return v;
}

export function str(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new InputProblem(`${path} must be a string, not ${kindOf(v)}`);
  return v;
}

export function bool(v: unknown, path: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new InputProblem(`${path} must be true or false, not ${kindOf(v)}`);
  return v;
}

export function int(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new InputProblem(`${path} must be an integer, not ${JSON.stringify(v) ?? kindOf(v)}`);
  return v;
}

export function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new InputProblem(`${path} must be a list, not ${kindOf(v)}`);
  return v;
}

/** A string map (labels, annotations, matchLabels); absent is empty. */
export function strMap(v: unknown, path: string): Record<string, string> {
  const o = obj(v, path);
  const out: Record<string, string> = {};
  if (!o) return out;
  for (const [k, val] of Object.entries(o)) {
    if (typeof val !== 'string') throw new InputProblem(`${path}["${k}"] must be a string, not ${kindOf(val)}`);
    out[k] = val;
  }
  return out;
}

/** `metadata.name`, which every object has; missing or empty is malformed. */
export function requiredName(meta: Record<string, unknown> | undefined, path = 'metadata.name'): string {
  const name = str(meta?.name, path);
  if (!name) throw new InputProblem(`${path} is missing`);
  return name;
}
