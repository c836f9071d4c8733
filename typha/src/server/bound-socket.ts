/**
 * A TCP socket bound to an address and port but not listening, for the fan-out workers to
 * listen and accept on (fanout-pool.ts): the process that binds it never accepts, because it
 * never listens; each worker that receives the handle listens on the same socket, and the kernel
 * spreads the connections among them. This is what Node's cluster module does for its shared
 * handles (`SharedHandle`, with the same `net._createServerHandle`); Node 20 has no public way to
 * bind without listening, nor SO_REUSEPORT (22.12+).
 */
import net from 'node:net';
import { getSystemErrorName } from 'node:util';

/** The handle as the IPC channel sends it (a `net.Native`) and the bound port. */
export interface BoundSocket {
  readonly handle: { close(): void };
  readonly port: number;
}

type CreateServerHandle = (address: string, port: number, addressType: number, fd?: number, flags?: number) => unknown;

/** Binds `address:port` (an IP address; port 0: any free one); throws EADDRINUSE and the like. */
export function bindTcp(address: string, port: number): BoundSocket {
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;
  if (typeof create !== 'function') throw new Error('this Node.js has no net._createServerHandle: fan-out workers cannot share a listening socket');
  const family = net.isIP(address);
  if (family === 0) throw new Error(`${address} is not an IP address`);
  const handle = create(address, port, family);
  if (typeof handle === 'number') {
    const name = getSystemErrorName(handle);
    throw Object.assign(new Error(`bind ${address}:${port}: ${name}`), { code: name });
  }
  const h = handle as { close(): void; getsockname(out: { port?: number }): number };
  const out: { port?: number } = {};
  const err = h.getsockname(out);
  if (err !== 0 || out.port === undefined) {
    h.close();
    throw new Error(`bind ${address}:${port}: cannot read the bound port (${getSystemErrorName(err)})`);
  }
  return { handle: h, port: out.port };
}
