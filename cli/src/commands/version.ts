/**
 * `cattail version`, as calicoctl prints it: the client version, then the cluster's version and
 * type from ClusterInformation `default` (written by the node agents). Without a cluster to ask,
 * the client lines are still printed and the command fails with the reason.
 *
 * --poll=<duration> keeps asking, as calicoctl's does: a cluster line is printed again only when
 * its value changed; a failure is printed on stderr and the next answer prints both lines again.
 * It ends on SIGINT/SIGTERM (exit 130/143).
 *
 * It never checks for a version mismatch (calicoctl's does not either: it is how one finds one);
 * --allow-version-mismatch is accepted, as calicoctl accepts it, and changes nothing.
 */
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CliError, CommandFailedError, InterruptedError, interruptedBy } from '../errors.js';
import { writeLine } from '../io.js';
import { failureMessage } from '../calico-messages.js';
import { clientVersion } from '../version-info.js';

export const versionCommand: Command = {
  name: 'version',
  summary: 'Display the version of this binary.',
  usage: `${BINARY_NAME} version [--poll=<POLL>] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>] [--allow-version-mismatch]`,
  flags: [
    {
      name: 'poll',
      value: 'POLL',
      help: 'Poll for changes to the cluster information at this interval (a Go duration: 1s, 10m, 2h). 0, the default, does not poll.',
    },
    ETCD_ENDPOINTS_FLAG,
    KUBECONFIG_FLAG,
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  description: `Displays the client version and, from ClusterInformation "default", the version
and type of the cluster. Commands that read or write resources refuse to run when
the cluster's version is not this client's (unless --allow-version-mismatch is given).`,
  run: runVersion,
};

async function runVersion(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length) throw new CommandFailedError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const pollText = ctx.args.string('poll');
  const pollMs = pollText === undefined ? 0 : parseGoDurationMs(pollText);
  if (pollMs === undefined) throw new CommandFailedError(`Invalid poll duration specified: ${pollText}`);
  // Go's Println puts one space after each label: the values line up in column 19.
  writeLine(ctx.stdout, `Client Version:    ${clientVersion()}`);
  const ref = { kind: 'ClusterInformation', name: 'default' };
  const text = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : 'unknown');
  // What was printed last: polling prints a line again only when it changed, or after a failure.
  let shown: { version?: string; type?: string } = {};
  for (;;) {
    try {
      const spec = (await (await ctx.datastore()).get(ref)).spec ?? {};
      const [version, type] = [text(spec.calicoVersion), text(spec.clusterType)];
      if (version !== shown.version) writeLine(ctx.stdout, `Cluster Version:   ${version}`);
      if (type !== shown.type) writeLine(ctx.stdout, `Cluster Type:      ${type}`);
      shown = { version, type };
    } catch (err) {
      if (err instanceof InterruptedError) throw err;
      const failure =
        err instanceof CliError ? err : new CommandFailedError(`Unable to retrieve Cluster Version or Type: ${failureMessage(err, ref)}`, 1, { cause: err });
      if (pollMs === 0) throw failure;
      writeLine(ctx.stderr, failure.message);
      shown = {};
    }
    if (pollMs === 0) return 0;
    await sleep(pollMs, ctx.signal);
  }
}

const GO_DURATION_UNITS_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration (`1s`, `10m`, `1h30m`, `0`) in milliseconds; undefined when it is not one, or negative. */
export function parseGoDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  if (!/^\+?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(m[1]) * GO_DURATION_UNITS_MS[m[2]];
  return ms;
}

/** Resolves after `ms`; rejects with the InterruptedError of a SIGINT/SIGTERM that comes first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(interruptedBy(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(interruptedBy(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
