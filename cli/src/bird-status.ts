/**
 * The BGP sessions of the BIRD on this host, read from its control socket the way calicoctl's
 * `node status` reads them: connect, send `show protocols`, read BIRD's numbered reply:
 *
 *   0001 BIRD 2.0.12 ready.                                          greeting
 *   2002-Name       Proto      Table      State  Since         Info   headings
 *   1002-device1    Device     ---        up     10:11:38.383         first row
 *    Mesh_10_0_0_2 BGP        ---        start  10:11:38.383  Active  more rows (a leading space)
 *   0000                                                             end of reply
 *
 * A code of 8xxx or 9xxx is an error reply. Each line must arrive within the timeout (calicoctl's
 * 2 s). Rows are kept when they are BGP protocols named as Calico (and confd) name them:
 * `Mesh_`, `Node_` or `Global_`, then the peer's address with `_` for each `.` or `:`
 * (`Mesh_10_0_0_2`, `Node_fd00__2`), optionally `_port_<n>`. Other protocols (device, kernel, a
 * hand-written BGP session) are not Calico's peers and are left out, as calicoctl leaves them.
 *
 * calicoctl talks to two BIRDs (bird.ctl, bird6.ctl), one per family. Cattail runs one BIRD 2
 * for both, so one query is split by the address's family instead.
 */
import { createConnection } from 'node:net';
import { formatIP, parseIP } from '@cattail/api';
import { CliError, interruptedBy } from './errors.js';

export interface BgpPeer {
  family: 4 | 6;
  /** As calicoctl shows it; `:<port>` (`[addr]:<port>` for IPv6) for a non-default port. */
  address: string;
  /** The peer's address alone. */
  ip: string;
  /** How confd named the session: the mesh, a node-specific or a global BGPPeer. */
  source: 'Mesh' | 'Node' | 'Global';
  /** `node-to-node mesh`, `node specific` or `global`. */
  type: string;
  /** BIRD's protocol state: up, start, down... */
  state: string;
  since: string;
  /** BGP state and BIRD's detail: `Established`, `Active Socket: Connection refused`. */
  info: string;
}

const PEER_TYPES: Readonly<Record<string, string>> = { Mesh: 'node-to-node mesh', Node: 'node specific', Global: 'global' };
const HEADINGS = ['name', 'proto', 'table', 'state', 'since', 'info'];
export const BIRD_TIMEOUT_MS = 2000;

export interface BirdQueryOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

function unavailable(message: string, cause?: unknown): CliError {
  return new CliError('CLI_BIRD_UNAVAILABLE', message, 1, cause === undefined ? undefined : { cause });
}

/**
 * The reply lines of one command, from the greeting's end to its last line (a code followed by
 * a space; `0000`, which carries nothing, excluded).
 * Throws CliError CLI_BIRD_UNAVAILABLE when the socket cannot be reached, BIRD answers with an
 * error code, or stops answering.
 */
export function birdCommand(socket: string, command: string, opts: BirdQueryOptions = {}): Promise<string[]> {
  const timeoutMs = opts.timeoutMs ?? BIRD_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    const lines: string[] = [];
    let buffered = '';
    let greeted = false;
    const finish = (err: Error | undefined, result?: string[]): void => {
      conn.destroy();
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(result!);
    };
    const onAbort = (): void => finish(interruptedBy(opts.signal));
    if (opts.signal?.aborted) return finish(interruptedBy(opts.signal));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    conn.setTimeout(timeoutMs, () => finish(unavailable(`Error executing command: BIRD on ${socket} did not answer within ${timeoutMs} ms`)));
    conn.setEncoding('utf8');
    conn.on('error', (err: NodeJS.ErrnoException) =>
      finish(unavailable(`Error querying BIRD: unable to connect to BIRD socket ${socket}: ${err.code ?? err.message}`, err)),
    );
    conn.on('end', () => finish(unavailable(`Error executing command: BIRD on ${socket} closed the connection before the end of its reply`)));
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const code = /^(\d{4})([ -])/.exec(line);
        if (!greeted) {
          if (code?.[1] !== '0001') return finish(unavailable(`Error executing command: ${socket} is not a BIRD control socket (it said "${line}")`));
          greeted = true;
          conn.write(`${command}\n`);
        } else if (code && /^[89]/.test(code[1])) {
          return finish(unavailable(`Error executing command: BIRD replied ${line}`));
        } else if (code?.[2] === ' ') {
          // A code and a space: the reply's last line (`0000` carries nothing; `show status`
          // ends with `0013 Daemon is up and running`).
          if (code[1] !== '0000') lines.push(line);
          return finish(undefined, lines);
        } else {
          lines.push(line);
        }
      }
    });
  });
}

/** The Calico peers in `show protocols` reply lines. Throws CLI_BIRD_UNAVAILABLE on a table of another shape. */
export function parseBirdPeers(lines: readonly string[]): BgpPeer[] {
  const peers: BgpPeer[] = [];
  for (const line of lines) {
    if (line.startsWith('2002')) {
      const headings = line.slice(5).trim().toLowerCase().split(/\s+/);
      if (headings.join(' ') !== HEADINGS.join(' ')) throw unavailable('Error executing command: unknown BIRD table output format');
      continue;
    }
    let row: string;
    if (line.startsWith('1002')) row = line.slice(5);
    else if (line.startsWith(' ')) row = line.slice(1);
    else throw unavailable(`Error executing command: unexpected output line from BIRD: ${line}`);
    const peer = peerOf(row.trim().split(/\s+/));
    if (peer) peers.push(peer);
  }
  return peers;
}

/** One row's columns: name, proto, table, state, since, then the info (absent for a disabled protocol). */
function peerOf(columns: readonly string[]): BgpPeer | undefined {
  if (columns.length < 5 || columns[1] !== 'BGP') return undefined;
  const m = /^(Global|Node|Mesh)_(.+?)(?:_port_(\d+))?$/.exec(columns[0]);
  if (!m) return undefined;
  const [, prefix, encoded, port] = m;
  const v4 = parseIP(encoded.replace(/_/g, '.'));
  const ip = v4?.version === 4 ? v4 : parseIP(encoded.replace(/_/g, ':'));
  if (!ip) return undefined;
  const text = formatIP(ip);
  const address = port === undefined ? text : ip.version === 4 ? `${text}:${port}` : `[${text}]:${port}`;
  const source = prefix as BgpPeer['source'];
  return { family: ip.version, address, ip: text, source, type: PEER_TYPES[prefix], state: columns[3], since: columns[4], info: columns.slice(5).join(' ') };
}
