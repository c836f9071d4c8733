/**
 * `cattail ipam release --ip=<IP> | --from-report=<FILE> [--force]`, as calicoctl's:
 *
 *   --ip           frees one address, whoever holds it; an address nobody holds is an error
 *   --from-report  frees what an `ipam check -o FILE` report lists as leaked: every allocation
 *                  with inUse false, then every leaked handle. calicoctl's preconditions hold:
 *                  the report is of this cluster (clusterGUID, never overridable), of this
 *                  client version and taken after the datastore was last locked or unlocked
 *                  (ClusterInformation's resourceVersion), and the datastore is locked
 *                  (`datastoreReady: false`, so no CNI ADD allocates meanwhile); --force
 *                  overrides the last three
 *
 * Beyond calicoctl, each item is checked again against the datastore just before it is freed,
 * so a report that has gone stale frees nothing it should not:
 *
 *   - an address a workload endpoint or node uses now is skipped
 *   - an address is freed only while the same allocation holds it (the report's handle and
 *     sequence number: ipam.IpamClient.releaseAddress); one released and handed out again is
 *     skipped
 *   - a handle is deleted only at the report's resourceVersion (and uid), and only while no
 *     block refers to it
 *
 * Every free is one compare-and-swap write of one block, then the handle's count; stopped at any
 * point (SIGINT, SIGTERM, a lost connection) the data is consistent, and running the same
 * command again finishes the job: what was freed already counts as "already cleaned up".
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { formatIP, isPlainObject, type Resource } from '@cattail/api';
import { ipam, type Datastore } from '@cattail/datastore';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CliError, CommandFailedError, InterruptedError, interruptedBy, UsageError, firstLine } from '../errors.js';
import { writeLine } from '../io.js';
import { parseReport, type CheckReport, type LeakedHandle, type ReportAllocation } from '../ipam/check-report.js';
import { allocationsOf, loadAddressUsers, loadBlocks, parseAddress } from '../ipam/ipam-data.js';
import { hasCode } from '../resource-actions.js';
import { clientVersion } from '../version-info.js';

const STOPPED = 'the release stopped between two items and the data is consistent; run the same command again to finish';

/** Larger than any report of a cluster of thousands of nodes; a bound so no file can exhaust memory. */
const MAX_REPORT_BYTES = 256 * 1024 * 1024;

export const ipamReleaseCommand: Command = {
  name: 'release',
  summary: 'Release a Calico assigned IP address.',
  usage: `${BINARY_NAME} ipam release (--ip=<IP> | --from-report=<REPORT> [--force]) [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>] [--allow-version-mismatch]`,
  flags: [
    { name: 'ip', value: 'IP', help: 'IP address to release.' },
    { name: 'from-report', value: 'REPORT', help: 'Release all leaked addresses and handles from the report of "ipam check -o".' },
    { name: 'force', help: 'Release from a report although the datastore is not locked or the report is of another version or stale.' },
    ETCD_ENDPOINTS_FLAG,
    KUBECONFIG_FLAG,
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  checksClusterVersion: true,
  description: `The ipam release command releases an IP address from the Calico IP Address
Manager that was previously assigned to an endpoint. When an IP address is
released, it becomes available for assignment to any endpoint.

Note that this does not remove the IP from any existing endpoints that may be
using it, so only use this command to clean up addresses from endpoints that
were not cleanly removed from Calico.

With --from-report, each leaked address and handle is checked again just before it
is released, and skipped if it is in use or has changed since the report. An
interrupted release leaves the data consistent; run it again to finish.`,
  run: runRelease,
};

async function runRelease(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const ipText = args.string('ip');
  const reportFile = args.string('from-report');
  if (ipText === undefined && reportFile === undefined) throw new UsageError('give --ip=<IP> or --from-report=<REPORT>');
  if (ipText !== undefined && reportFile !== undefined) throw new UsageError('give either --ip or --from-report, not both');
  if (args.bool('force') && reportFile === undefined) throw new UsageError('--force applies only to --from-report');

  if (ipText !== undefined) {
    const ip = parseAddress(ipText);
    if (!ip) throw new UsageError(`--ip: "${ipText}" is not an IP address`);
    const address = formatIP(ip);
    const outcome = await new ipam.IpamClient(await ctx.datastore()).releaseAddress({ address });
    if (outcome !== 'released') throw new CommandFailedError(`IP address ${address} is not assigned`);
    writeLine(ctx.stdout, `Successfully released IP address ${address}`);
    return 0;
  }
  const report = await loadReport(ctx, reportFile!);
  try {
    await releaseFromReport(ctx, report, reportFile!);
  } catch (err) {
    if (err instanceof InterruptedError) throw interruptedBy(ctx.signal, STOPPED);
    throw err;
  }
  writeLine(ctx.stdout, 'You may now unlock the data store.');
  return 0;
}

async function loadReport(ctx: CommandContext, file: string): Promise<CheckReport> {
  let text: string;
  try {
    const buf = await readFile(resolve(ctx.cwd, file));
    if (buf.byteLength > MAX_REPORT_BYTES) throw new Error(`${buf.byteLength} bytes, over the limit of ${MAX_REPORT_BYTES}`);
    text = buf.toString('utf8');
  } catch (err) {
    throw new CommandFailedError(`cannot read the report ${file}: ${firstLine(err)}`, 1, { cause: err });
  }
  try {
    return parseReport(text);
  } catch (err) {
    throw new CommandFailedError(`${file}: not an ipam check report: ${firstLine(err)}`, 1, { cause: err });
  }
}

async function releaseFromReport(ctx: CommandContext, report: CheckReport, file: string): Promise<void> {
  const out = (line: string): void => writeLine(ctx.stdout, line);
  const force = ctx.args.bool('force');
  const ds = await ctx.datastore();
  const info = await ds.get({ kind: 'ClusterInformation', name: 'default' }).catch((err: unknown) => {
    if (!(err instanceof CliError) && hasCode(err, 'DATASTORE_NOT_FOUND')) {
      throw new CommandFailedError('ClusterInformation "default" does not exist: this datastore is not the cluster the report is of');
    }
    throw err;
  });
  const spec = isPlainObject(info.spec) ? info.spec : {};
  // As calicoctl: a report of another cluster is refused even with --force.
  if (spec.clusterGUID !== report.clusterGUID) {
    throw new CommandFailedError(`cluster does not match the provided report (${file}): mismatched cluster GUID. Refusing to release`);
  }
  const overridable = (problem: string, warning: string): void => {
    if (!force) throw new CommandFailedError(problem);
    out(`WARNING: ${warning}. Ignoring due to --force option`);
  };
  if (report.version !== clientVersion()) {
    overridable(
      `the provided report (${file}) was produced using a different version (${report.version}) of ${BINARY_NAME}. Refusing to release`,
      `Report was produced using a different version of ${BINARY_NAME}`,
    );
  }
  if (report.clusterInformationRevision !== info.metadata.resourceVersion) {
    overridable(
      'the provided report is stale (ClusterInformation changed since it was taken). Please generate a new report while the data store is locked and try again',
      'Report is stale',
    );
  }
  if (spec.datastoreReady !== false) overridable('data store is not locked. Either lock the data store, or re-run with --force', 'Data store is not locked');

  const leaked = Object.values(report.allocations)
    .flat()
    .filter((a) => !a.inUse);
  if (leaked.length > 0) await releaseIPs(ctx, ds, leaked);
  else out("Report didn't contain any leaked IPs to clean up.");
  if (report.leakedHandles?.length) await releaseHandles(ctx, ds, report.leakedHandles);
  else out("Report didn't contain any handles to clean up.");
}

async function releaseIPs(ctx: CommandContext, ds: Datastore, leaked: readonly ReportAllocation[]): Promise<void> {
  const out = (line: string): void => writeLine(ctx.stdout, line);
  out(`Releasing ${leaked.length} old IPs...`);
  let released = 0;
  let gone = 0;
  let kept = 0;
  const summary = (): void => {
    out(`Released ${released} IPs successfully`);
    if (gone > 0) out(`${gone} addresses marked as leaked in the report had already been cleaned up.`);
    if (kept > 0) out(`${kept} addresses marked as leaked in the report are in use or allocated again since; not released.`);
  };
  await reportingProgress(summary, async () => {
    // The re-check reads what is in use now, after the report.
    const users = await loadAddressUsers(ds);
    const usedNow = new Set([...users.nodes, ...users.workloads].map((u) => u.ip));
    const blocks = (await loadBlocks(ds)).map((b) => b.block.cidr);
    const client = new ipam.IpamClient(ds);
    for (const a of leaked) {
      if (ctx.signal.aborted) throw interruptedBy(ctx.signal);
      if (usedNow.has(a.ip)) {
        kept++;
        continue;
      }
      // What the report knows of the allocation must still hold; a field it lacks is not checked.
      const req: ipam.ReleaseAddressRequest = {
        address: a.ip,
        ...(a.handle !== undefined ? { handleId: a.handle } : {}),
        ...(a.sequenceNumber !== undefined ? { sequenceNumber: a.sequenceNumber } : {}),
      };
      let outcome: ipam.ReleaseOutcome;
      try {
        outcome = await client.releaseAddress(req, blocks);
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CommandFailedError(
          `An error occurred while releasing ${a.ip}: ${firstLine(err)}. Nothing is half-released: run the same command again to continue`,
          1,
          {
            cause: err,
          },
        );
      }
      if (outcome === 'released') released++;
      else if (outcome === 'not-assigned') gone++;
      else kept++;
    }
  });
}

async function releaseHandles(ctx: CommandContext, ds: Datastore, handles: readonly LeakedHandle[]): Promise<void> {
  const out = (line: string): void => writeLine(ctx.stdout, line);
  out(`Deleting ${handles.length} handles...`);
  out("Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.");
  let deleted = 0;
  let skipped = 0;
  const errors: string[] = [];
  let marks = '';
  const summary = (): void => {
    out(marks);
    for (const e of errors) out(e);
    out(`Released ${deleted} handles; ${skipped} skipped; ${errors.length} errors.`);
  };
  await reportingProgress(summary, async () => {
    // A block that refers to the handle now (an allocation since the report) keeps it alive.
    const referenced = new Set((await loadBlocks(ds)).flatMap((b) => allocationsOf(b).map((a) => a.handle)));
    for (const h of handles) {
      if (ctx.signal.aborted) throw interruptedBy(ctx.signal);
      try {
        const current = await getHandle(ds, h.ID);
        const unchanged = current?.metadata.resourceVersion === h.Revision && (h.UID === null || current.metadata.uid === h.UID);
        if (!unchanged || referenced.has(h.ID)) {
          skipped++;
          marks += 'x';
          continue;
        }
        await ds.delete({ kind: 'IPAMHandle', name: h.ID }, { resourceVersion: h.Revision });
        deleted++;
        marks += '.';
      } catch (err) {
        if (err instanceof CliError) throw err;
        if (hasCode(err, 'DATASTORE_NOT_FOUND') || hasCode(err, 'DATASTORE_CONFLICT')) {
          skipped++;
          marks += 'x';
        } else {
          errors.push(`Deleting handle ${h.ID} failed: ${firstLine(err)}.`);
        }
      }
    }
  });
  if (errors.length > 0) throw new CommandFailedError(`${errors.length} handle(s) could not be deleted; run the same command again to retry them`);
}

async function getHandle(ds: Datastore, id: string): Promise<Resource | undefined> {
  try {
    return await ds.get({ kind: 'IPAMHandle', name: id });
  } catch (err) {
    if (!(err instanceof CliError) && hasCode(err, 'DATASTORE_NOT_FOUND')) return undefined;
    throw err;
  }
}

/** Runs one phase of the release and prints its tally at the end, also when it stops early. */
async function reportingProgress(summary: () => void, phase: () => Promise<void>): Promise<void> {
  try {
    await phase();
  } finally {
    summary();
  }
}
