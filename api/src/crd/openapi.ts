/**
 * A Cattail schema (`validation/schema.ts`) as a structural OpenAPI v3 schema, the form a
 * Kubernetes CustomResourceDefinition requires: every node has a `type`, except an int-or-string
 * node and a node that keeps whatever it is given (`x-kubernetes-preserve-unknown-fields`); no
 * `$ref`; an object has either `properties` (a struct) or `additionalProperties` (a map), never
 * both; no `uniqueItems` (the apiserver forbids it; `x-kubernetes-list-type: set` says the same).
 *
 * The walk is derived from the very declarations the validator walks, so the CRDs and the
 * validator cannot drift apart. What it carries over is what OpenAPI can say: types, nullability,
 * enums, integer ranges, string and list lengths, required fields, uniqueness. Per-field checks
 * (a CIDR's syntax, a selector's grammar) and cross-field rules stay in Cattail's validator,
 * which runs before every write: the CRD schema is a lower bound, never stricter than the
 * validator. Hence:
 *
 *   - an enum also lists "": the validator reads an empty string as unset (Go's `omitempty`,
 *     see `Validated<T>`), so a stored value may hold one;
 *   - an enum compared ignoring case (Felix's settings) becomes `pattern: ^(?i)(A|B)?$`, as in
 *     Calico's own CRDs, since `enum` compares exactly;
 *   - `required` only says "present" (the validator also refuses null and "").
 *
 * Unknown fields: a structural schema prunes fields it does not describe (and the apiserver's
 * strict field validation reports them), which is what our strict decoding does. Only objects the
 * schema marks `open` keep them, with `x-kubernetes-preserve-unknown-fields`.
 */
import type { Schema } from '../validation/schema.js';

/** The subset of Kubernetes' JSONSchemaProps that a generated schema uses. */
export interface JSONSchemaProps {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  nullable?: boolean;
  enum?: string[];
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  items?: JSONSchemaProps;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  additionalProperties?: JSONSchemaProps;
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-list-type'?: 'set';
  'x-kubernetes-map-type'?: 'atomic';
}

/** The structural OpenAPI v3 schema of the values `schema` lets through (as a lower bound). */
export function toOpenAPI(schema: Schema): JSONSchemaProps {
  const out = node(schema);
  if (schema.nullable) out.nullable = true;
  return out;
}

function node(schema: Schema): JSONSchemaProps {
  switch (schema.type) {
    case 'string': {
      const out: JSONSchemaProps = { type: 'string' };
      if (schema.maxLength !== undefined) out.maxLength = schema.maxLength;
      if (schema.enum && schema.ci) out.pattern = `^(?i)(${schema.enum.map(escapeRegExp).join('|')})?$`;
      else if (schema.enum) out.enum = schema.enum.includes('') ? [...schema.enum] : [...schema.enum, ''];
      return out;
    }
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      return { type: 'number' };
    case 'integer': {
      const out: JSONSchemaProps = { type: 'integer' };
      if (schema.min !== undefined) out.minimum = schema.min;
      if (schema.max !== undefined) out.maximum = schema.max;
      return out;
    }
    case 'intOrString':
      return { 'x-kubernetes-int-or-string': true };
    case 'object': {
      const out: JSONSchemaProps = { type: 'object' };
      const names = Object.keys(schema.fields);
      if (names.length > 0) out.properties = Object.fromEntries(names.map((k) => [k, toOpenAPI(schema.fields[k])]));
      if (schema.required && schema.required.length > 0) out.required = [...schema.required];
      if (schema.open) out['x-kubernetes-preserve-unknown-fields'] = true;
      return out;
    }
    case 'array': {
      const out: JSONSchemaProps = { type: 'array', items: toOpenAPI(schema.items) };
      if (schema.maxItems !== undefined) out.maxItems = schema.maxItems;
      if (schema.unique) {
        out['x-kubernetes-list-type'] = 'set';
        // A set's items are compared whole: an object item must be atomic (an apiserver rule).
        if (out.items!.type === 'object') out.items!['x-kubernetes-map-type'] = 'atomic';
      }
      return out;
    }
    case 'map':
      return { type: 'object', additionalProperties: toOpenAPI(schema.values) };
    case 'any':
      return { 'x-kubernetes-preserve-unknown-fields': true };
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
