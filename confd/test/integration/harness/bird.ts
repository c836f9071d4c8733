// A real BIRD 2 inside a node's namespace, started as our child (`ip netns exec` execs bird,
// so the child's pid is BIRD's) and ended by that pid only.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { requireBinary } from '../../helpers/binaries.js';
import { until } from '@cattail/datastore/testing';

const run = promisify(execFile);

export interface BirdProtocol {
  name: string;
  proto: string;
  state: string;
  info: string;
}

export class BirdProcess {
  readonly ns: string;
  readonly socket: string;
  readonly #child: ChildProcess;
  #exited: Promise<void>;
  #log = '';

  private constructor(ns: string, socket: string, child: ChildProcess) {
    this.ns = ns;
    this.socket = socket;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout?.on('data', (d: Buffer) => this.#append(d));
    child.stderr?.on('data', (d: Buffer) => this.#append(d));
  }

  /** Starts `bird -f -c <config> -s <socket>` in `ns` and waits until its control socket answers. */
  static async start(ns: string, config: string, socket: string): Promise<BirdProcess> {
    const ipBin = requireBinary('ip');
    const bird = requireBinary('bird');
    const child = spawn(ipBin, ['netns', 'exec', ns, bird, '-f', '-c', config, '-s', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    const b = new BirdProcess(ns, socket, child);
    try {
      await until(
        async () =>
          child.exitCode !== null
            ? 'exited'
            : await b.birdc('show', 'status').then(
                () => 'up',
                () => undefined,
              ),
        `BIRD in ${ns} to answer on ${socket}`,
        10_000,
      );
    } catch (err) {
      await b.stop();
      throw err;
    }
    if (child.exitCode !== null) throw new Error(`BIRD in ${ns} exited with ${child.exitCode}: ${b.log}`);
    // `ip netns exec` execs the command in place: our child's pid is BIRD's own.
    const exe = readlinkSync(`/proc/${b.pid}/exe`);
    if (!exe.endsWith('/bird')) {
      await b.stop();
      throw new Error(`pid ${b.pid} is ${exe}, not bird: cannot follow BIRD by pid`);
    }
    return b;
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get log(): string {
    return this.#log;
  }

  #append(d: Buffer): void {
    this.#log = (this.#log + d.toString('utf8')).slice(-20_000);
  }

  async birdc(...args: string[]): Promise<string> {
    const { stdout } = await run(requireBinary('birdc'), ['-s', this.socket, ...args], { timeout: 5_000 });
    return stdout;
  }

  async protocols(): Promise<Map<string, BirdProtocol>> {
    const out = await this.birdc('show', 'protocols');
    const map = new Map<string, BirdProtocol>();
    for (const line of out.split('\n').slice(2)) {
      const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+\s*(.*)$/.exec(line);
      if (m) map.set(m[1], { name: m[1], proto: m[2], table: m[3], state: m[4], info: m[5].trim() } as BirdProtocol);
    }
    return map;
  }

  /** The BGP sessions and their state (`Established`, `Active`, `Connect`, …). */
  async bgpSessions(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const p of (await this.protocols()).values()) if (p.proto === 'BGP') out.set(p.name, p.info.split(/\s+/)[0] ?? '');
    return out;
  }

  /**
   * `show route all` as prefix → the text BIRD printed for it (every path and attribute line),
   * e.g. to look for `BGP.community: (65000,100)`.
   */
  async routeTable(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let current: string | undefined;
    for (const line of (await this.birdc('show', 'route', 'all')).split('\n')) {
      const m = /^([0-9a-f.:]+\/\d+)\s/.exec(line);
      if (m) current = m[1];
      else if (!/^\s/.test(line)) current = undefined;
      if (current !== undefined) out.set(current, `${out.get(current) ?? ''}${line}\n`);
    }
    return out;
  }

  /** SIGTERM, then SIGKILL after 3 s; only our own child's pid. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3_000);
    await this.#exited;
    clearTimeout(timer);
  }
}
