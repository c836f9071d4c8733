// Network namespaces for BGP tests: a "fabric" namespace holding a bridge, and one namespace
// per node joined to it by a veth pair, each node with one address on a private /24. Every
// name starts with the test's own prefix (`ctcd-<random>`), nothing is created in the root
// namespace, and `destroy()` deletes exactly what was made here.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { requireBinary } from '../../helpers/binaries.js';

const run = promisify(execFile);

export async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(requireBinary('ip'), args, { timeout: 10_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** Fails the test with a clear message unless it can create namespaces. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('this test creates network namespaces and runs BIRD in them: run it as root (e.g. sudo node --test …)');
  }
  requireBinary('ip');
  requireBinary('bird');
  requireBinary('birdc');
}

export interface NodeNs {
  /** Namespace name. */
  readonly ns: string;
  /** The node's address on the fabric, without prefix length. */
  readonly address: string;
  /** As a Node resource holds it: `a.b.c.d/24`. */
  readonly cidr: string;
}

export class Fabric {
  readonly prefix: string;
  /** Third octet of 172.31.<octet>.0/24. */
  readonly octet: number;
  readonly #namespaces: string[] = [];

  private constructor(prefix: string, octet: number) {
    this.prefix = prefix;
    this.octet = octet;
  }

  static async create(): Promise<Fabric> {
    const id = randomBytes(3).toString('hex');
    const f = new Fabric(`ctcd-${id}`, 1 + (randomBytes(1)[0] % 250));
    const fab = `${f.prefix}-fab`;
    await ip('netns', 'add', fab);
    f.#namespaces.push(fab);
    await ip('-n', fab, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', fab, 'link', 'set', 'br0', 'up');
    return f;
  }

  /** Node `index` (1..250) gets 172.31.<octet>.<index>. */
  async addNode(index: number): Promise<NodeNs> {
    const ns = `${this.prefix}-n${index}`;
    const fab = `${this.prefix}-fab`;
    await ip('netns', 'add', ns);
    this.#namespaces.push(ns);
    const tmp = `ct${this.prefix.slice(5)}n${index}`; // unique while it exists, ≤ 15 chars
    await ip('link', 'add', tmp, 'netns', ns, 'type', 'veth', 'peer', 'name', `p${index}`, 'netns', fab);
    await ip('-n', fab, 'link', 'set', `p${index}`, 'master', 'br0', 'up');
    await ip('-n', ns, 'link', 'set', tmp, 'name', 'eth0');
    const address = `172.31.${this.octet}.${index}`;
    await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    return { ns, address, cidr: `${address}/24` };
  }

  /** A namespace of this fabric's (`<prefix>-<suffix>`) joined to nothing: for a router or a workload. */
  async addNamespace(suffix: string): Promise<string> {
    const ns = `${this.prefix}-${suffix}`;
    await ip('netns', 'add', ns);
    this.#namespaces.push(ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    return ns;
  }

  /**
   * A veth pair between two of this fabric's namespaces: `aName` with `aCidr` in `a`, `bName`
   * with `bCidr` in `b`, both up. Deleted with the namespaces.
   */
  async link(a: string, aName: string, aCidr: string, b: string, bName: string, bCidr: string): Promise<void> {
    const tmp = `ct${randomBytes(5).toString('hex')}`; // ≤ 15 chars, unique while it exists
    await ip('link', 'add', tmp, 'netns', a, 'type', 'veth', 'peer', 'name', bName, 'netns', b);
    await ip('-n', a, 'link', 'set', tmp, 'name', aName);
    await ip('-n', a, 'addr', 'add', aCidr, 'dev', aName);
    await ip('-n', b, 'addr', 'add', bCidr, 'dev', bName);
    await ip('-n', a, 'link', 'set', aName, 'up');
    await ip('-n', b, 'link', 'set', bName, 'up');
  }

  async destroy(): Promise<void> {
    const errors: string[] = [];
    for (const ns of this.#namespaces.splice(0).reverse()) {
      await ip('netns', 'del', ns).catch((err: Error) => errors.push(err.message));
    }
    if (errors.length) throw new Error(errors.join('; '));
  }
}

export interface KernelRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  type?: string;
  protocol?: string;
}

export async function routes(ns: string): Promise<KernelRoute[]> {
  return JSON.parse(await ip('-n', ns, '-j', 'route', 'show')) as KernelRoute[];
}
