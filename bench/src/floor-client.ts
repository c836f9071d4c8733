/**
 * The receiving half of the floor measurement: a RawWebSocket (the same transport and the same
 * worker event loop as the LiteClients) with no protocol at all. Each floor message starts with
 * its round number (UInt32BE); the client reports the arrival time of each round's last byte to
 * its worker, so the floor measures the socket path alone (kernel loopback, framing, the
 * worker's event loop), the same path a Typha delta takes into a LiteClient.
 */
import { monoMs } from './clock.js';
import { RawWebSocket, type RawHandler } from './raw-ws.js';

export interface FloorHost {
  floorOpened(c: FloorClient): void;
  floorReceipt(round: number, now: number, bytes: number): void;
  floorClosed(c: FloorClient): void;
}

export class FloorClient {
  readonly host: FloorHost;
  readonly #ws: RawWebSocket<FloorClient>;
  /** Round number bytes of the current message (they may straddle slices). */
  readonly #head = Buffer.alloc(4);
  #headLen = 0;
  #length = 0;

  constructor(host: string, port: number, floorHost: FloorHost, localAddress: string | undefined) {
    this.host = floorHost;
    this.#ws = new RawWebSocket({ host, port, path: '/', localAddress }, this, FLOOR_HANDLER);
  }

  start(length: number): void {
    this.#headLen = 0;
    this.#length = length;
  }

  data(slice: Buffer): void {
    for (let i = 0; i < slice.length && this.#headLen < 4; i++) this.#head[this.#headLen++] = slice[i];
  }

  end(): void {
    const now = monoMs();
    if (this.#headLen === 4) this.host.floorReceipt(this.#head.readUInt32BE(0), now, this.#length);
  }

  close(): void {
    this.#ws.close(1000, 'bench done');
  }
}

const FLOOR_HANDLER: RawHandler<FloorClient> = Object.freeze({
  open: (c: FloorClient) => c.host.floorOpened(c),
  messageStart: (c: FloorClient, length: number) => c.start(length),
  messageData: (c: FloorClient, slice: Buffer) => c.data(slice),
  messageEnd: (c: FloorClient) => c.end(),
  closed: (c: FloorClient) => c.host.floorClosed(c),
});
