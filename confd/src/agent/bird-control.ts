/**
 * The boundary to BIRD: check a candidate file, and ask the running BIRD to re-read its own.
 * Declared here, by the agent that uses it, as two methods, so agent tests can stand in a
 * recording fake and the integration tests use the real binaries.
 *
 * The real one runs `bird -p -c <candidate>` (BIRD's own parser: exactly what `configure` will
 * accept) and `birdc -v -s <socket> configure`. `-v` makes birdc print BIRD's numeric reply
 * codes, so success is read from the code, not from English text:
 *
 *   0001 BIRD 2.0.12 ready.
 *   0002-Reading configuration from /etc/calico/confd/config/bird.cfg
 *   0003 Reconfigured                       (or 0004 in progress, 0005 queued: accepted)
 *   8002 /…/bird.cfg:28:1 syntax error, …   (refused; BIRD keeps running its old configuration)
 *
 * `configure` without a file name makes BIRD re-read the path it was started with, which is why
 * the agent renames the checked candidate over that path before calling it.
 */
import { execFile } from 'node:child_process';
import { BirdUnreachableError, ConfigCheckError, ReloadRejectedError, errorMessage } from '../errors.js';

export interface BirdControl {
  /** Throws ConfigCheckError when BIRD would not accept `file`. */
  check(file: string): Promise<void>;
  /** Reload the running BIRD. Throws ReloadRejectedError or BirdUnreachableError. Resolves to BIRD's reply. */
  configure(): Promise<string>;
}

export interface BirdCommandOptions {
  /** The `bird` binary (a name on PATH or a path). */
  bird: string;
  /** The `birdc` binary. */
  birdc: string;
  /** BIRD's control socket. */
  socket: string;
  /** Upper bound for one command. */
  timeoutMs: number;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  error: NodeJS.ErrnoException | null;
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const e = error as (NodeJS.ErrnoException & { code?: number | string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr, error: e });
    });
  });
}

/** Accepted replies to `configure`: reconfigured, reconfiguration in progress, queued. */
const CONFIGURE_OK = new Set(['0003', '0004', '0005']);

/** The last reply line birdc -v printed: `{code, text}`. Continuation lines start with a space. */
export function lastReply(output: string): { code: string; text: string } | undefined {
  let last: { code: string; text: string } | undefined;
  for (const line of output.split('\n')) {
    const m = /^(\d{4})[ -](.*)$/.exec(line);
    if (m) last = { code: m[1], text: m[2] };
  }
  return last;
}

export function birdCommands(o: BirdCommandOptions): BirdControl {
  return {
    async check(file) {
      const r = await run(o.bird, ['-p', '-c', file], o.timeoutMs);
      if (r.code === 0) return;
      if (r.error?.code === 'ENOENT') throw new ConfigCheckError(`cannot run ${o.bird}: not found (install BIRD 2, Debian package bird2)`, { cause: r.error });
      const output = (r.stderr.trim() || r.stdout.trim() || errorMessage(r.error)).replace(/^bird: /gm, '');
      throw new ConfigCheckError(output, { cause: r.error });
    },
    async configure() {
      const r = await run(o.birdc, ['-v', '-s', o.socket, 'configure'], o.timeoutMs);
      if (r.error?.code === 'ENOENT')
        throw new BirdUnreachableError(`cannot run ${o.birdc}: not found (install BIRD 2, Debian package bird2)`, { cause: r.error });
      const reply = lastReply(r.stdout);
      if (reply && CONFIGURE_OK.has(reply.code)) return `${reply.code} ${reply.text}`;
      if (reply && /^[89]/.test(reply.code)) throw new ReloadRejectedError(`${reply.code} ${reply.text}`);
      // No reply, only the greeting, or a shutting-down BIRD: nobody applied the file (yet).
      const said = reply ? `${reply.code} ${reply.text}` : (r.stderr.trim() || r.stdout.trim() || errorMessage(r.error)).split('\n').pop();
      throw new BirdUnreachableError(`birdc -s ${o.socket} configure: ${said}`, { cause: r.error ?? undefined });
    },
  };
}
