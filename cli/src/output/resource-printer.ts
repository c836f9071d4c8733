/**
 * `get -o yaml|json` shapes, as calicoctl prints them:
 *
 *   one resource asked by name      → the object itself
 *   a whole kind (no names)         → { kind: <Kind>List, apiVersion, metadata: {resourceVersion}, items }
 *   several names, or -f            → an array of the objects
 *
 * JSON keeps Go's struct field order (kind, apiVersion, metadata, spec; metadata in ObjectMeta
 * order), indented by two spaces. YAML is what calicoctl's ghodss-style marshaller writes: map
 * keys sorted, sequences not indented under their key, and any string a YAML 1.1 reader would
 * take for something else (`"123"`, `"yes"`, a timestamp) quoted, so both YAML 1.1 (go-yaml,
 * calicoctl) and 1.2 readers get the same strings back.
 */
import { API_VERSION, type Resource } from '@cattail/api';
import { Document } from 'yaml';

export interface ResourceList {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string };
  items: Record<string, unknown>[];
}

const META_ORDER = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

/** The resource with its keys in Go's order (what `json.Marshal` of the typed struct gives). */
export function inGoOrder(res: Resource): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: res.kind, apiVersion: res.apiVersion || API_VERSION };
  out.metadata = ordered(res.metadata, META_ORDER);
  for (const [k, v] of Object.entries(res)) {
    if (!(k in out) && v !== undefined) out[k] = v;
  }
  return out;
}

export function listOf(kind: string, items: readonly Resource[], revision: number): ResourceList {
  return {
    kind: `${kind}List`,
    apiVersion: API_VERSION,
    metadata: { resourceVersion: String(revision) },
    items: items.map(inGoOrder),
  };
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function toYaml(value: unknown): string {
  const doc = new Document(value, { version: '1.1', sortMapEntries: true });
  return doc.toString({ indentSeq: false, lineWidth: 0 });
}

function ordered(obj: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of order) if (obj[k] !== undefined) out[k] = obj[k];
  for (const [k, v] of Object.entries(obj)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}
