import type { Resource } from '@cattail/api';
import type { KVUpdate, SyncCallbacks, SyncStatus } from '../../src/pipeline/sync-callbacks.js';
import type { Logger } from '../../src/pipeline/logger.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

export type Call<U> = { type: 'status'; status: SyncStatus; revision: number } | { type: 'updates'; updates: U[]; revision: number };

export interface RecordingSink<U> extends SyncCallbacks<U> {
  calls: Call<U>[];
  /** Every update received, in order. */
  updates(): U[];
  lastRevision(): number | undefined;
}

export function recordingSink<U>(): RecordingSink<U> {
  const calls: Call<U>[] = [];
  return {
    calls,
    onStatus(status, revision) {
      calls.push({ type: 'status', status, revision });
    },
    onUpdates(updates, revision) {
      calls.push({ type: 'updates', updates, revision });
    },
    updates() {
      return calls.flatMap((c) => (c.type === 'updates' ? c.updates : []));
    },
    lastRevision() {
      return calls.at(-1)?.revision;
    },
  };
}

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

export function fakeClock(start = 1_000): FakeClock {
  return new FakeClock(start);
}

export function res(
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  extra: Partial<Resource> & { namespace?: string; labels?: Record<string, string> } = {},
): Resource {
  const { namespace, labels, ...rest } = extra;
  const r: Resource = { apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec, ...rest };
  if (namespace) r.metadata.namespace = namespace;
  if (labels) r.metadata.labels = labels;
  return r;
}

export function put(r: Resource, revision: number): KVUpdate {
  const u: KVUpdate = { key: `/test/${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`, kind: r.kind, name: r.metadata.name, revision, resource: r };
  if (r.metadata.namespace) u.namespace = r.metadata.namespace;
  return u;
}

export function del(kind: string, name: string, revision: number, namespace?: string): KVUpdate {
  const u: KVUpdate = { key: `/test/${kind}/${namespace ?? ''}/${name}`, kind, name, revision };
  if (namespace) u.namespace = namespace;
  return u;
}
