/**
 * calicoctl's version-mismatch guard: a command that reads or writes resources first compares
 * this client's version with the cluster's (ClusterInformation `default`, `spec.calicoVersion`)
 * and refuses to run when they differ, because a client of another release may misread or
 * rewrite fields it does not know. Exactly calicoctl's rules (commands/common/version_mismatch.go):
 *
 *   --allow-version-mismatch given        no check
 *   ClusterInformation absent             no check (nothing has initialized the cluster)
 *   calicoVersion empty                   no check (calicoctl and cattail leave it empty; only
 *                                         calico/node writes it)
 *   otherwise                             both versions without a leading `v` and without any
 *                                         `-suffix` (v3.28.0-0.dev → 3.28.0) must be equal
 *
 * The datastore answering something other than "not found" fails the command, as in calicoctl,
 * except that an unreachable etcd or a signal keeps its own message (those are CliErrors).
 * There is no environment variable to skip the check: calicoctl has none either.
 *
 * `version` and `node status` do not check (calicoctl's do not either): they are how one finds
 * out about a mismatch.
 */
import type { Datastore } from '@cattail/datastore';
import { CliError, firstLine } from './errors.js';
import { hasCode } from './resource-actions.js';

/** `v3.28.0-0.dev` → `3.28.0`: the part of a version calicoctl compares. */
export function comparableVersion(version: string): string {
  const bare = version.startsWith('v') ? version.slice(1) : version;
  return bare.split('-')[0];
}

/** Throws CliError CLI_VERSION_MISMATCH when the cluster's Calico version is not the client's. */
export async function checkVersionMismatch(ds: Datastore, clientVersion: string): Promise<void> {
  let spec: Record<string, unknown> | undefined;
  try {
    spec = (await ds.get({ kind: 'ClusterInformation', name: 'default' })).spec;
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (hasCode(err, 'DATASTORE_NOT_FOUND')) return;
    throw new CliError(
      'CLI_VERSION_MISMATCH',
      `Unable to get Cluster Information to verify version mismatch: ${firstLine(err)}\nUse --allow-version-mismatch to override.`,
      1,
      { cause: err },
    );
  }
  const clusterVersion = spec?.calicoVersion;
  if (typeof clusterVersion !== 'string' || clusterVersion === '') return;
  const cluster = comparableVersion(clusterVersion);
  if (cluster === comparableVersion(clientVersion)) return;
  throw new CliError(
    'CLI_VERSION_MISMATCH',
    `Version mismatch.\nClient Version:   ${clientVersion}\nCluster Version:  ${cluster}\nUse --allow-version-mismatch to override.`,
  );
}
