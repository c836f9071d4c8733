/**
 * Values as Calico stores them in etcd, so data written by calicoctl reads here and ours reads
 * there.
 *
 * v3 resources: the whole object as JSON (`kind`, `apiVersion`, `metadata`, `spec`), without
 * `metadata.resourceVersion`: that is the key's etcd mod revision and is filled in on read.
 * IPAM records: libcalico-go's model JSON (`AllocationBlock`, `BlockAffinity`, `IPAMHandle`,
 * `IPAMConfig`), translated to and from v3-style resources. Decoding checks shape only (JSON,
 * an object, names agreeing with the key); full validation is {@link validateResource}'s job, so
 * a reader can still see and delete a resource that later rules would reject.
 */
import { CorruptValueError } from './errors.js';
import { keyFor, parseKey, type ParsedKey } from './keys.js';
import { API_VERSION, isPlainObject, type ObjectMeta, type Resource } from './resource.js';

export function encodeValue(res: Resource): string {
  switch (res.kind) {
    case 'IPAMBlock':
      return JSON.stringify(res.spec ?? {});
    case 'BlockAffinity': {
      const s = res.spec ?? {};
      return JSON.stringify({ state: s.state ?? 'confirmed', deleted: s.deleted === true || s.deleted === 'true' });
    }
    case 'IPAMHandle': {
      const s = res.spec ?? {};
      return JSON.stringify({ block: s.block ?? {}, deleted: s.deleted === true });
    }
    case 'IPAMConfiguration': {
      const s = res.spec ?? {};
      const v: Record<string, unknown> = {};
      if (s.strictAffinity) v.strict_affinity = true;
      if (s.autoAllocateBlocks) v.auto_allocate_blocks = true;
      if (s.maxBlocksPerHost) v.maxBlocksPerHost = s.maxBlocksPerHost;
      return JSON.stringify(v);
    }
    default: {
      const { resourceVersion: _rv, ...metadata } = res.metadata;
      const out: Record<string, unknown> = { kind: res.kind, apiVersion: res.apiVersion || API_VERSION, metadata };
      if (res.spec !== undefined) out.spec = res.spec;
      if (res.status !== undefined) out.status = res.status;
      return JSON.stringify(out);
    }
  }
}

/** Decode one etcd value. Throws {@link CorruptValueError} naming the key and what is wrong. */
export function decodeValue(key: string, raw: string | Uint8Array, modRevision: number): Resource {
  const parsed = parseKey(key);
  if (!parsed) throw new CorruptValueError(key, 'key is outside the Calico layout');
  const text = typeof raw === 'string' ? raw : new TextDecoder('utf-8', { fatal: false }).decode(raw);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CorruptValueError(key, 'value is not JSON', { cause: err });
  }
  if (!isPlainObject(value)) throw new CorruptValueError(key, 'value is not a JSON object');
  const resourceVersion = String(modRevision);
  if (parsed.kind.storage === 'ipam') return decodeIpam(key, parsed, value, resourceVersion);

  const { kind, metadata, spec } = value;
  if (kind !== undefined && kind !== parsed.kind.kind) {
    throw new CorruptValueError(key, `kind "${String(kind)}" does not match the key's ${parsed.kind.kind}`);
  }
  if (!isPlainObject(metadata)) throw new CorruptValueError(key, 'metadata is missing or not an object');
  if (metadata.name !== undefined && metadata.name !== parsed.name) {
    throw new CorruptValueError(key, `metadata.name "${String(metadata.name)}" does not match the key`);
  }
  if (spec !== undefined && !isPlainObject(spec)) throw new CorruptValueError(key, 'spec is not an object');
  const meta: ObjectMeta = { ...(metadata as Partial<ObjectMeta>), name: parsed.name, resourceVersion };
  if (parsed.namespace) meta.namespace = parsed.namespace;
  const res: Resource = {
    apiVersion: typeof value.apiVersion === 'string' ? value.apiVersion : API_VERSION,
    kind: parsed.kind.kind,
    metadata: meta,
  };
  if (spec !== undefined) res.spec = spec;
  if (value.status !== undefined) res.status = value.status;
  return res;
}

function decodeIpam(key: string, parsed: ParsedKey, v: Record<string, unknown>, resourceVersion: string): Resource {
  const make = (spec: Record<string, unknown>): Resource => ({
    apiVersion: API_VERSION,
    kind: parsed.kind.kind,
    metadata: { name: parsed.name, resourceVersion },
    spec,
  });
  switch (parsed.kind.kind) {
    case 'IPAMBlock': {
      if (typeof v.cidr !== 'string') throw new CorruptValueError(key, 'block has no cidr');
      if (v.allocations !== undefined && v.allocations !== null && !Array.isArray(v.allocations)) {
        throw new CorruptValueError(key, 'block allocations is not an array');
      }
      return make({ ...v });
    }
    case 'BlockAffinity':
      if (v.state !== undefined && typeof v.state !== 'string') throw new CorruptValueError(key, 'affinity state is not a string');
      return make({ state: v.state ?? 'confirmed', node: parsed.node, cidr: parsed.cidr, deleted: v.deleted === true });
    case 'IPAMHandle':
      if (v.block !== undefined && !isPlainObject(v.block)) throw new CorruptValueError(key, 'handle block is not an object');
      return make({ handleID: parsed.name, block: v.block ?? {}, deleted: v.deleted === true });
    default:
      return make({
        strictAffinity: v.strict_affinity === true,
        autoAllocateBlocks: v.auto_allocate_blocks === true,
        maxBlocksPerHost: typeof v.maxBlocksPerHost === 'number' ? v.maxBlocksPerHost : 0,
      });
  }
}

/** Convenience: the (key, value) pair a resource is written as. */
export function toKeyValue(res: Resource): { key: string; value: string } {
  return { key: keyFor(res), value: encodeValue(res) };
}
