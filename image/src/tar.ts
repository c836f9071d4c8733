/**
 * A deterministic tar writer (POSIX ustar, with pax extended headers for what ustar cannot
 * hold): the same entries always give the same bytes, whatever the machine, the file times or
 * the user running the build. That is what makes an image layer's digest a function of its
 * content.
 *
 *   - entries are written in the order given (`layer.ts` sorts them by path, parents first);
 *   - every mtime is the one passed in (default 0), atime/ctime are never written;
 *   - owners are numeric, user and group names left empty;
 *   - a path or link target that is longer than ustar's fields or not ASCII goes in a pax `x`
 *     header (`path=`, `linkpath=`), as GNU tar and Go's archive/tar read it.
 *
 * Rejected: shelling out to GNU tar (`--sort=name --mtime --numeric-owner`). It needs the layer
 * staged as a directory first, so a file list ("this binary at /pause") would be copied twice, and
 * its pax headers carry the build's own atime unless told otherwise; writing 512-byte headers is
 * a page of code.
 */
import { createReadStream } from 'node:fs';
import { ImageInputError } from './errors.js';

export type TarEntry =
  | { type: 'dir'; path: string; mode: number; uid: number; gid: number }
  | { type: 'symlink'; path: string; target: string; uid: number; gid: number }
  | { type: 'hardlink'; path: string; target: string; mode: number; uid: number; gid: number }
  | { type: 'file'; path: string; mode: number; uid: number; gid: number; size: number; source: string | Buffer };

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const MAX_OCTAL_11 = 0o77777777777;

/** The tar stream of `entries`, ending with the two zero blocks. */
export async function* tarStream(entries: Iterable<TarEntry>, mtime = 0): AsyncGenerator<Buffer> {
  for (const e of entries) {
    const name = e.type === 'dir' ? `${e.path}/` : e.path;
    const linkname = e.type === 'symlink' || e.type === 'hardlink' ? e.target : '';
    const size = e.type === 'file' ? e.size : 0;
    const pax: Array<[string, string]> = [];
    const split = splitUstarName(name);
    if (!split) pax.push(['path', name]);
    if (linkname && !fitsUstar(linkname, 100)) pax.push(['linkpath', linkname]);
    if (size > MAX_OCTAL_11) pax.push(['size', String(size)]);
    if (pax.length > 0) {
      const body = paxRecords(pax);
      yield header({ name: paxHeaderName(name), mode: 0o644, uid: 0, gid: 0, size: body.length, mtime, type: 'x', linkname: '' });
      yield body;
      yield padding(body.length);
    }
    const [prefix, base] = split ?? ['', truncateAscii(name, 100)];
    const mode = e.type === 'symlink' ? 0o777 : e.mode;
    const type = e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : e.type === 'hardlink' ? '1' : '0';
    yield header({
      name: base,
      prefix,
      mode,
      uid: e.uid,
      gid: e.gid,
      size,
      mtime,
      type,
      linkname: fitsUstar(linkname, 100) ? linkname : truncateAscii(linkname, 100),
    });
    if (e.type === 'file') {
      if (Buffer.isBuffer(e.source)) {
        if (e.source.length !== e.size) throw new ImageInputError(`${e.path}: content is ${e.source.length} bytes, the entry says ${e.size}`);
        yield e.source;
      } else {
        let read = 0;
        for await (const chunk of createReadStream(e.source)) {
          const buf = chunk as Buffer;
          read += buf.length;
          if (read > e.size) throw new ImageInputError(`${e.source} grew while it was being written into the layer (${e.path}); nothing stable to pack`);
          yield buf;
        }
        if (read !== e.size) throw new ImageInputError(`${e.source} shrank while it was being written into the layer (${e.path}): ${read} of ${e.size} bytes`);
      }
      yield padding(e.size);
    }
  }
  yield ZERO_BLOCK;
  yield ZERO_BLOCK;
}

interface Header {
  name: string;
  prefix?: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  linkname: string;
}

function header(h: Header): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, Math.min(h.size, MAX_OCTAL_11));
  octal(b, 136, 12, h.mtime);
  b.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  b.write(h.type, 156, 1, 'ascii');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'ascii');
  if (h.prefix) b.write(h.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return b;
}

function octal(b: Buffer, offset: number, width: number, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= 8 ** (width - 1)) throw new ImageInputError(`tar: ${value} does not fit a ${width}-byte field`);
  b.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function fitsUstar(s: string, max: number): boolean {
  return s.length <= max && PRINTABLE_ASCII.test(s);
}

/** [prefix, name] when `path` fits ustar's two fields (split at a slash), else undefined. */
function splitUstarName(path: string): [string, string] | undefined {
  if (!PRINTABLE_ASCII.test(path)) return undefined;
  if (path.length <= 100) return ['', path];
  // The name part may end with the directory slash; the split slash itself is dropped.
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/' || i === path.length - 1) continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return [prefix, name];
    if (path.length - i - 1 > 100) break;
  }
  return undefined;
}

function truncateAscii(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, max);
}

function paxHeaderName(name: string): string {
  const base = name.replace(/\/$/, '').split('/').pop() ?? 'entry';
  return truncateAscii(`PaxHeaders/${base}`, 100);
}

/** pax records `<len> <key>=<value>\n`, where len counts the whole record including itself. */
function paxRecords(records: Array<[string, string]>): Buffer {
  const parts = records.map(([k, v]) => {
    const body = ` ${k}=${v}\n`;
    const bodyLen = Buffer.byteLength(body);
    let len = bodyLen + String(bodyLen).length;
    if (String(len).length !== String(len - bodyLen).length) len = bodyLen + String(len).length;
    return `${len}${body}`;
  });
  return Buffer.from(parts.join(''), 'utf8');
}
