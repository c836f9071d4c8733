/**
 * One snapshot of a syncer's state at one revision, encoded for one codec, shared by every
 * client that joins while it is current: the pages are encoded once, on first request, and the
 * same Buffers are written to each client.
 *
 * Encoding is lazy, page by page. Encoding 35,000 projected workload endpoints in one go takes
 * long enough to stall the event loop (see `SyncCache` for the figures), so the handle captures
 * the state up front (an array of references to immutable updates, which keeps it consistent
 * with its revision whatever is applied afterwards) and computes the page boundaries from the
 * cached size estimates; a page is encoded when the first client needs it. A server that sends
 * page i and yields until the socket drains before asking for page i+1 spreads the work over
 * many turns of the event loop, and a thousand clients joining together still cost one encode
 * per page. Once every page is encoded the captured array is dropped.
 *
 * For clients that accepted `deflate-snapshot` a page is also compressed, likewise once, from
 * its encoded frame (`compressFrame`), and that `Compressed` frame is shared the same way.
 */
import type { Codec } from '../protocol/codec.js';
import { compressFrame } from '../protocol/compressed.js';
import type { SnapshotPage, Update } from '../protocol/messages.js';

export interface SnapshotFrames {
  /** The revision of the state captured (the syncer's last content change at or before it). */
  readonly revision: number;
  readonly codec: Codec['name'];
  /** Clock time the state was captured. */
  readonly createdAt: number;
  readonly pageCount: number;
  readonly updateCount: number;
  /** Estimated encoded size of all pages. */
  readonly estimatedBytes: number;
  /** Pages encoded so far. */
  readonly encodedPages: number;
  /** Page `page` (0-based), encoding it now if no one has yet; `compressed`: its Compressed frame. */
  frame(page: number, compressed?: boolean): Buffer;
  /** Every page, encoding those not yet encoded. */
  all(): Buffer[];
}

export interface SnapshotFramesInit {
  revision: number;
  codec: Codec;
  createdAt: number;
  /** The state, captured: not modified afterwards. */
  updates: readonly Update[];
  /** Estimated encoded size of each update, parallel to `updates`. */
  sizes: readonly number[];
  pageSize: number;
  pageBytes: number;
  /** DEFLATE level of the Compressed frames (default SNAPSHOT_DEFLATE_LEVEL). */
  deflateLevel?: number;
  /** Told of each page encoded (for stats). */
  onEncode?: (bytes: number) => void;
  /** Told of each page compressed: the plain and compressed frame sizes (for stats). */
  onCompress?: (plainBytes: number, compressedBytes: number) => void;
  /** Told once every page is encoded, with their total size (Calico's typha_snapshot_raw_bytes). */
  onEncoded?: (totalBytes: number) => void;
  /** Told once every page is compressed, with the total compressed size (typha_snapshot_compressed_bytes). */
  onCompressed?: (totalBytes: number) => void;
}

/** End index (exclusive) of each page: at most `pageSize` updates and, past the first, `pageBytes`. */
export function pageEnds(sizes: readonly number[], pageSize: number, pageBytes: number): number[] {
  const ends: number[] = [];
  let count = 0;
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    if (count > 0 && (count >= pageSize || bytes + sizes[i] > pageBytes)) {
      ends.push(i);
      count = 0;
      bytes = 0;
    }
    count++;
    bytes += sizes[i];
  }
  ends.push(sizes.length);
  return ends;
}

export function createSnapshotFrames(init: SnapshotFramesInit): SnapshotFrames {
  const { revision, codec, createdAt, onEncode, onCompress, onEncoded, onCompressed } = init;
  let updates: readonly Update[] | undefined = init.updates;
  const updateCount = updates.length;
  const ends = pageEnds(init.sizes, init.pageSize, init.pageBytes);
  const pageCount = ends.length;
  const frames = new Array<Buffer | undefined>(pageCount);
  let compressedFrames: Array<Buffer | undefined> | undefined;
  let encoded = 0;
  let encodedBytes = 0;
  let compressedPages = 0;
  let compressedBytes = 0;
  let estimatedBytes = 0;
  for (const s of init.sizes) estimatedBytes += s;

  function frame(page: number, compressed = false): Buffer {
    return compressed ? compressedFrame(page) : plainFrame(page);
  }

  function compressedFrame(page: number): Buffer {
    compressedFrames ??= new Array<Buffer | undefined>(pageCount);
    const cached = compressedFrames[page];
    if (cached !== undefined) return cached;
    const plain = plainFrame(page);
    const buf = compressFrame(codec, plain, init.deflateLevel);
    compressedFrames[page] = buf;
    onCompress?.(plain.byteLength, buf.byteLength);
    compressedBytes += buf.byteLength;
    if (++compressedPages === pageCount) onCompressed?.(compressedBytes);
    return buf;
  }

  function plainFrame(page: number): Buffer {
    if (!Number.isInteger(page) || page < 0 || page >= pageCount) {
      throw new RangeError(`snapshot page ${page} is outside 0..${pageCount - 1}`);
    }
    const cached = frames[page];
    if (cached !== undefined) return cached;
    const start = page === 0 ? 0 : ends[page - 1];
    const msg: SnapshotPage = {
      type: 'snapshot',
      revision,
      page,
      last: page === pageCount - 1,
      updates: (updates as readonly Update[]).slice(start, ends[page]),
    };
    const buf = codec.encode(msg);
    frames[page] = buf;
    encodedBytes += buf.byteLength;
    onEncode?.(buf.byteLength);
    if (++encoded === pageCount) {
      updates = undefined;
      onEncoded?.(encodedBytes);
    }
    return buf;
  }

  return {
    revision,
    codec: codec.name,
    createdAt,
    pageCount,
    updateCount,
    estimatedBytes,
    get encodedPages() {
      return encoded;
    },
    frame,
    all(): Buffer[] {
      const out: Buffer[] = [];
      for (let i = 0; i < pageCount; i++) out.push(plainFrame(i));
      return out;
    },
  };
}
