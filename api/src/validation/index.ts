/**
 * The validation layer's public surface, used by the CLI (documents from YAML/JSON), the
 * datastore (before every write) and Typha (values read from etcd):
 *
 *   checkResource(doc)     strict decode → applyDefaults → validateResource; every problem
 *                          at once, each with its field path
 *   applyDefaults(res)     Calico's create-time defaults, on a copy; idempotent
 *   validateResource(res)  types, values and cross-field rules of a resource; unknown fields are
 *                          not reported here (a newer Calico may have written them)
 *
 * Kind-specific knowledge lives in `api/src/kinds/<kind>.ts`; this file only walks it.
 */
import type { ValidationIssue } from '../errors.js';
import { kindDef } from '../kinds/index.js';
import { allKinds, findKind, type KindInfo } from '../kinds.js';
import { API_VERSION, describeRef, isPlainObject, type Resource } from '../resource.js';
import type { KindDef, WithSpec } from './kind-def.js';
import { checkMetadata, metadataSchema } from './metadata.js';
import { checkValues, closest, decodeStrict, describe, normalizeValues } from './schema.js';

export type CheckResult = { ok: true; resource: Resource } | { ok: false; ref: string; issues: ValidationIssue[] };

export type * from '../kinds/index.js';
export type { Validated } from './schema.js';

const TOP_LEVEL = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];

/** Decode, default and validate one parsed YAML/JSON document. */
export function checkResource(doc: unknown): CheckResult {
  if (!isPlainObject(doc)) {
    const message = `expected a resource (an object with apiVersion, kind, metadata, spec), got ${describe(doc)}`;
    return { ok: false, ref: 'document', issues: [{ path: '', message }] };
  }
  const issues: ValidationIssue[] = [];
  checkApiVersion(doc.apiVersion, issues);
  const found = lookupKind(doc.kind, issues);

  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL.includes(key) || (key === 'status' && found && !found.def.status)) {
      issues.push({ path: key, message: `unknown field "${key}"` });
    }
  }
  if (!found) return { ok: false, ref: 'document', issues };

  const { info, def } = found;
  const res: Resource = {
    apiVersion: doc.apiVersion as string,
    kind: info.kind,
    // A missing metadata becomes {}, so names Calico derives (WorkloadEndpoint, IPAM) can be filled in.
    metadata: decodeStrict(doc.metadata ?? {}, metadataSchema, 'metadata', issues) as Resource['metadata'],
  };
  if (doc.spec !== undefined && doc.spec !== null) res.spec = decodeStrict(doc.spec, def.spec, 'spec', issues) as Record<string, unknown>;
  if (def.status && doc.status !== undefined && doc.status !== null) res.status = decodeStrict(doc.status, def.status, 'status', issues);

  const defaulted = applyDefaults(res);
  // Not push(...): a list of 200,000 bad items is 200,000 arguments, past V8's stack.
  for (const issue of validateResource(defaulted)) issues.push(issue);
  const name = isPlainObject(defaulted.metadata) ? defaulted.metadata.name : undefined;
  const ref =
    typeof name === 'string' && name !== ''
      ? describeRef({ kind: info.kind, name, namespace: info.namespaced ? defaulted.metadata.namespace : undefined })
      : 'document';
  const unique = dedupe(issues);
  return unique.length > 0 ? { ok: false, ref, issues: unique } : { ok: true, resource: defaulted };
}

/** A copy of `res` with Calico's create-time defaults filled in. */
export function applyDefaults(res: Resource): Resource {
  const out = structuredClone(res);
  const found = exactKind(out.kind);
  if (!found || !isPlainObject(out.metadata)) return out;
  if (found.info.namespaced && !out.metadata.namespace) out.metadata.namespace = 'default';
  if (found.def.defaults) {
    if (out.spec === undefined || out.spec === null) out.spec = {};
    if (isPlainObject(out.spec)) found.def.defaults(out as WithSpec);
  }
  if (isPlainObject(out.spec)) normalizeValues(out.spec, found.def.spec);
  return out;
}

/** Every problem with a resource's values; an empty list when it is valid. */
export function validateResource(res: Resource): ValidationIssue[] {
  if (!isPlainObject(res)) return [{ path: '', message: `expected a resource object, got ${describe(res)}` }];
  const issues: ValidationIssue[] = [];
  checkApiVersion(res.apiVersion, issues);
  const found = exactKind(res.kind);
  if (!found) {
    lookupKind(res.kind, issues);
    return issues;
  }
  const { info, def } = found;
  checkMetadata(res, info, def, issues);

  const spec = res.spec === undefined || res.spec === null ? {} : res.spec;
  checkValues(spec, def.spec, 'spec', issues);
  if (def.status && res.status !== undefined && res.status !== null) checkValues(res.status, def.status, 'status', issues);

  if (def.rules && isPlainObject(spec)) {
    const meta: Record<string, unknown> = isPlainObject(res.metadata) ? res.metadata : {};
    const view = { ...res, metadata: { ...meta, name: typeof meta.name === 'string' ? meta.name : '' }, spec } as WithSpec;
    def.rules(view, issues);
  }
  return dedupe(issues);
}

function checkApiVersion(apiVersion: unknown, issues: ValidationIssue[]): void {
  if (apiVersion === undefined || apiVersion === null || apiVersion === '') {
    issues.push({ path: 'apiVersion', message: `is required: set it to ${API_VERSION}` });
  } else if (apiVersion !== API_VERSION) {
    const hint = apiVersion === 'crd.projectcalico.org/v1' ? " (that is Calico's internal CRD storage version)" : '';
    issues.push({ path: 'apiVersion', message: `${describe(apiVersion)} is not supported${hint}: use ${API_VERSION}` });
  }
}

function exactKind(kind: unknown): { info: KindInfo; def: KindDef } | undefined {
  if (typeof kind !== 'string') return undefined;
  const info = allKinds().find((k) => k.kind === kind);
  const def = info && kindDef(info.kind);
  return info && def ? { info, def } : undefined;
}

/** The kind of a document, which must be spelled exactly as Calico's Kind; reports otherwise. */
function lookupKind(kind: unknown, issues: ValidationIssue[]): { info: KindInfo; def: KindDef } | undefined {
  if (kind === undefined || kind === null || kind === '') {
    issues.push({ path: 'kind', message: 'is required (e.g. IPPool, NetworkPolicy)' });
    return undefined;
  }
  if (typeof kind !== 'string') {
    issues.push({ path: 'kind', message: `expected a string, got ${describe(kind)}` });
    return undefined;
  }
  const found = exactKind(kind);
  if (found) return found;
  const guess =
    findKind(kind)?.kind ??
    closest(
      kind,
      allKinds().map((k) => k.kind),
    );
  issues.push({
    path: 'kind',
    message: guess ? `unknown kind "${kind}": did you mean "${guess}"? (kinds are case-sensitive)` : `unknown kind "${kind}"`,
  });
  return undefined;
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
