/**
 * The machine-readable report of `ipam check -o FILE`, in calicoctl's JSON shape, so a report
 * written by either tool can be read by the other's `ipam release --from-report`:
 *
 *   { "version", "clusterGUID", "datastoreLocked", "clusterInformationRevision", "clusterType",
 *     "allocations": { "<ip>": [ { "ip", "handle", "sequenceNumber", "pod", "namespace", "node",
 *                                  "type", "creationTimestamp", "inUse", "borrowed", "owners" } ] },
 *     "leakedHandles": [ { "ID", "UID", "Revision" } ] }
 *
 * Keys appear in calicoctl's order (Go struct order, map keys sorted), empty optional fields are
 * left out as Go's `omitempty` leaves them out, and `owners` is null for an address nobody uses.
 * An allocation with `inUse: false` is what the report calls leaked.
 *
 * `parseReport` is strict about what release relies on (the cluster it came from, each leaked
 * address and handle) and names the first field that is wrong.
 */
import { isPlainObject } from '@cattail/api';

export interface ReportAllocation {
  ip: string;
  handle?: string;
  sequenceNumber?: number;
  pod?: string;
  namespace?: string;
  node?: string;
  type?: string;
  creationTimestamp?: string;
  inUse: boolean;
  borrowed?: boolean;
  owners: string[] | null;
}

export interface LeakedHandle {
  ID: string;
  UID: string | null;
  Revision: string;
}

export interface CheckReport {
  version: string;
  clusterGUID: string;
  datastoreLocked: boolean;
  clusterInformationRevision: string;
  clusterType: string;
  allocations: Record<string, ReportAllocation[]>;
  leakedHandles?: LeakedHandle[];
}

/** The report as calicoctl writes it: two-space indented, keys in calicoctl's order. */
export function reportJson(r: CheckReport): string {
  const allocations: Record<string, ReportAllocation[]> = {};
  for (const ip of Object.keys(r.allocations).sort()) allocations[ip] = r.allocations[ip].map(orderedAllocation);
  const out: Record<string, unknown> = {
    version: r.version,
    clusterGUID: r.clusterGUID,
    datastoreLocked: r.datastoreLocked,
    clusterInformationRevision: r.clusterInformationRevision,
    clusterType: r.clusterType,
    allocations,
  };
  if (r.leakedHandles?.length) out.leakedHandles = r.leakedHandles.map((h) => ({ ID: h.ID, UID: h.UID, Revision: h.Revision }));
  return JSON.stringify(out, null, 2);
}

function orderedAllocation(a: ReportAllocation): ReportAllocation {
  const out: ReportAllocation = { ip: a.ip } as ReportAllocation;
  if (a.handle) out.handle = a.handle;
  if (a.sequenceNumber !== undefined) out.sequenceNumber = a.sequenceNumber;
  for (const k of ['pod', 'namespace', 'node', 'type', 'creationTimestamp'] as const) if (a[k]) out[k] = a[k];
  out.inUse = a.inUse;
  if (a.borrowed) out.borrowed = true;
  out.owners = a.owners && a.owners.length > 0 ? a.owners : null;
  return out;
}

/** A report read back; throws an Error naming the first field that is wrong. */
export function parseReport(text: string): CheckReport {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isPlainObject(v)) throw new Error('not a JSON object');
  const str = (o: Record<string, unknown>, key: string, where: string, optional = false): string | undefined => {
    const x = o[key];
    if (x === undefined && optional) return undefined;
    if (typeof x !== 'string') throw new Error(`${where}${key}: must be a string`);
    return x;
  };
  const allocations: Record<string, ReportAllocation[]> = {};
  const rawAllocs = v.allocations ?? {};
  if (!isPlainObject(rawAllocs)) throw new Error('allocations: must be an object');
  for (const [ip, list] of Object.entries(rawAllocs)) {
    if (!Array.isArray(list)) throw new Error(`allocations["${ip}"]: must be a list`);
    allocations[ip] = list.map((a: unknown, i) => {
      const where = `allocations["${ip}"][${i}].`;
      if (!isPlainObject(a)) throw new Error(`allocations["${ip}"][${i}]: must be an object`);
      if (typeof a.inUse !== 'boolean') throw new Error(`${where}inUse: must be true or false`);
      const seq = a.sequenceNumber;
      if (seq !== undefined && (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)) {
        throw new Error(`${where}sequenceNumber: must be a non-negative integer`);
      }
      const out: ReportAllocation = { ip: str(a, 'ip', where)!, inUse: a.inUse, owners: null };
      const handle = str(a, 'handle', where, true);
      if (handle !== undefined) out.handle = handle;
      if (seq !== undefined) out.sequenceNumber = seq;
      return out;
    });
  }
  const rawHandles = v.leakedHandles ?? [];
  if (!Array.isArray(rawHandles)) throw new Error('leakedHandles: must be a list');
  const leakedHandles = rawHandles.map((h: unknown, i): LeakedHandle => {
    const where = `leakedHandles[${i}].`;
    if (!isPlainObject(h)) throw new Error(`leakedHandles[${i}]: must be an object`);
    const uid = h.UID ?? null;
    if (uid !== null && typeof uid !== 'string') throw new Error(`${where}UID: must be a string or null`);
    return { ID: str(h, 'ID', where)!, UID: uid, Revision: str(h, 'Revision', where)! };
  });
  if (typeof v.datastoreLocked !== 'boolean') throw new Error('datastoreLocked: must be true or false');
  return {
    version: str(v, 'version', '')!,
    clusterGUID: str(v, 'clusterGUID', '')!,
    datastoreLocked: v.datastoreLocked,
    clusterInformationRevision: str(v, 'clusterInformationRevision', '')!,
    clusterType: str(v, 'clusterType', '', true) ?? '',
    allocations,
    leakedHandles,
  };
}
