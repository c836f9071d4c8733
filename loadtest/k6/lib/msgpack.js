/**
 * A small MessagePack codec for the k6 scenarios (plain JS, runs in k6's JavaScript runtime).
 *
 * Why our own: k6 cannot load npm packages, and Typha's frames are plain MessagePack (no
 * msgpackr records or extension types, docs/PROTOCOL.md), so the subset needed is small:
 * nil, booleans, integers up to 2^53, float64, str, bin, arrays and maps. Extension types are
 * refused (Typha never sends them).
 *
 * Two ways to read a frame:
 *   decode(bytes)       the whole value, as plain objects (hello, in-sync, deltas, ping, goodbye)
 *   readHeader(bytes)   the top-level map's scalar fields up to `updates`, plus the number of
 *                       updates from the array header, without touching the updates themselves.
 *                       Typha writes `updates` last (type, revision, page, last, updates), so a
 *                       14.8 MB felix snapshot costs a client a few dozen byte reads per page
 *                       instead of a full decode in k6's interpreter, which would cost more CPU
 *                       than Typha spends sending it and make k6 the thing under test.
 * encode(value) writes the small client → server messages (hello, pong).
 */

const utf8Cache = new Map();

function Reader(bytes) {
  this.b = bytes;
  this.v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  this.p = 0;
}

function fail(r, what) {
  throw new Error(`msgpack: ${what} at byte ${r.p} of ${r.b.length}`);
}

function need(r, n) {
  if (r.p + n > r.b.length) fail(r, `truncated value (need ${n} bytes)`);
}

function readStr(r, n) {
  need(r, n);
  const b = r.b;
  const start = r.p;
  r.p += n;
  // Short keys repeat in every frame ("type", "revision", label names): cache them by content.
  if (n <= 24) {
    let ascii = true;
    let key = '';
    for (let i = start; i < start + n; i++) {
      const c = b[i];
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      key += String.fromCharCode(c);
    }
    if (ascii) {
      const hit = utf8Cache.get(key);
      if (hit !== undefined) return hit;
      if (utf8Cache.size < 4096) utf8Cache.set(key, key);
      return key;
    }
  }
  return utf8(b, start, start + n);
}

function utf8(b, start, end) {
  let out = '';
  let i = start;
  while (i < end) {
    const c = b[i++];
    if (c < 0x80) out += String.fromCharCode(c);
    else if (c < 0xe0) out += String.fromCharCode(((c & 0x1f) << 6) | (b[i++] & 0x3f));
    else if (c < 0xf0) out += String.fromCharCode(((c & 0x0f) << 12) | ((b[i++] & 0x3f) << 6) | (b[i++] & 0x3f));
    else {
      const cp = (((c & 0x07) << 18) | ((b[i++] & 0x3f) << 12) | ((b[i++] & 0x3f) << 6) | (b[i++] & 0x3f)) - 0x10000;
      out += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    }
  }
  return out;
}

function readArrayLen(r) {
  need(r, 1);
  const t = r.b[r.p++];
  if ((t & 0xf0) === 0x90) return t & 0x0f;
  if (t === 0xdc) {
    need(r, 2);
    r.p += 2;
    return r.v.getUint16(r.p - 2);
  }
  if (t === 0xdd) {
    need(r, 4);
    r.p += 4;
    return r.v.getUint32(r.p - 4);
  }
  r.p--;
  return -1;
}

function readValue(r) {
  need(r, 1);
  const t = r.b[r.p++];
  if (t < 0x80) return t;
  if (t >= 0xe0) return t - 0x100;
  if ((t & 0xf0) === 0x80) return readMap(r, t & 0x0f);
  if ((t & 0xf0) === 0x90) return readArray(r, t & 0x0f);
  if ((t & 0xe0) === 0xa0) return readStr(r, t & 0x1f);
  const v = r.v;
  let n;
  switch (t) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
    case 0xc5:
    case 0xc6:
      n = t === 0xc4 ? u8(r) : t === 0xc5 ? u16(r) : u32(r);
      need(r, n);
      r.p += n;
      return r.b.slice(r.p - n, r.p);
    case 0xca:
      need(r, 4);
      r.p += 4;
      return v.getFloat32(r.p - 4);
    case 0xcb:
      need(r, 8);
      r.p += 8;
      return v.getFloat64(r.p - 8);
    case 0xcc:
      return u8(r);
    case 0xcd:
      return u16(r);
    case 0xce:
      return u32(r);
    case 0xcf:
      need(r, 8);
      r.p += 8;
      return v.getUint32(r.p - 8) * 4294967296 + v.getUint32(r.p - 4);
    case 0xd0:
      need(r, 1);
      return v.getInt8(r.p++);
    case 0xd1:
      need(r, 2);
      r.p += 2;
      return v.getInt16(r.p - 2);
    case 0xd2:
      need(r, 4);
      r.p += 4;
      return v.getInt32(r.p - 4);
    case 0xd3:
      need(r, 8);
      r.p += 8;
      return v.getInt32(r.p - 8) * 4294967296 + v.getUint32(r.p - 4);
    case 0xd9:
      return readStr(r, u8(r));
    case 0xda:
      return readStr(r, u16(r));
    case 0xdb:
      return readStr(r, u32(r));
    case 0xdc:
      return readArray(r, u16(r));
    case 0xdd:
      return readArray(r, u32(r));
    case 0xde:
      return readMap(r, u16(r));
    case 0xdf:
      return readMap(r, u32(r));
    default:
      r.p--;
      return fail(r, `unsupported type byte 0x${t.toString(16)}`);
  }
}

function u8(r) {
  need(r, 1);
  return r.b[r.p++];
}
function u16(r) {
  need(r, 2);
  r.p += 2;
  return r.v.getUint16(r.p - 2);
}
function u32(r) {
  need(r, 4);
  r.p += 4;
  return r.v.getUint32(r.p - 4);
}

function readArray(r, n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readValue(r);
  return out;
}

function readMap(r, n) {
  const out = {};
  for (let i = 0; i < n; i++) {
    const k = readValue(r);
    out[k] = readValue(r);
  }
  return out;
}

function readMapLen(r) {
  need(r, 1);
  const t = r.b[r.p++];
  if ((t & 0xf0) === 0x80) return t & 0x0f;
  if (t === 0xde) return u16(r);
  if (t === 0xdf) return u32(r);
  r.p--;
  return fail(r, 'frame is not a map');
}

function toBytes(data) {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

/** The whole frame as plain objects. Throws on anything that is not one complete value. */
export function decode(data) {
  const r = new Reader(toBytes(data));
  const v = readValue(r);
  if (r.p !== r.b.length) fail(r, 'trailing bytes after the value');
  return v;
}

/**
 * The frame's scalar fields before `updates`, and `updatesCount` (-1 when the frame has none).
 * `updatesAt` is the byte offset of the first update, for decodeUpdates().
 */
export function readHeader(data) {
  const bytes = toBytes(data);
  const r = new Reader(bytes);
  const n = readMapLen(r);
  const h = { type: undefined, updatesCount: -1, updatesAt: -1, bytes };
  for (let i = 0; i < n; i++) {
    const k = readValue(r);
    if (k === 'updates') {
      const len = readArrayLen(r);
      if (len < 0) fail(r, 'updates is not an array');
      h.updatesCount = len;
      h.updatesAt = r.p;
      return h;
    }
    h[k] = readValue(r);
  }
  return h;
}

/** Decodes the updates of a header read by readHeader(). */
export function decodeUpdates(h) {
  if (h.updatesCount <= 0) return [];
  const r = new Reader(h.bytes);
  r.p = h.updatesAt;
  return readArray(r, h.updatesCount);
}

// ── encoding (client → server messages only) ─────────────────────────────────────────────

function Writer() {
  this.buf = new Uint8Array(256);
  this.v = new DataView(this.buf.buffer);
  this.p = 0;
}

function grow(w, n) {
  if (w.p + n <= w.buf.length) return;
  let size = w.buf.length * 2;
  while (size < w.p + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(w.buf.subarray(0, w.p));
  w.buf = next;
  w.v = new DataView(next.buffer);
}

function putByte(w, b) {
  grow(w, 1);
  w.buf[w.p++] = b;
}

function putHead(w, small, smallMax, t16, t32, n) {
  if (n <= smallMax) putByte(w, small | n);
  else if (n < 0x10000) {
    grow(w, 3);
    w.buf[w.p++] = t16;
    w.v.setUint16(w.p, n);
    w.p += 2;
  } else {
    grow(w, 5);
    w.buf[w.p++] = t32;
    w.v.setUint32(w.p, n);
    w.p += 4;
  }
}

function utf8Bytes(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return out;
}

function putValue(w, x) {
  if (x === null || x === undefined) return putByte(w, 0xc0);
  if (x === true) return putByte(w, 0xc3);
  if (x === false) return putByte(w, 0xc2);
  if (typeof x === 'number') {
    if (Number.isInteger(x) && x >= 0 && x <= 0x7f) return putByte(w, x);
    if (Number.isInteger(x) && x >= 0 && x <= 0xffffffff) {
      grow(w, 5);
      w.buf[w.p++] = 0xce;
      w.v.setUint32(w.p, x);
      w.p += 4;
      return undefined;
    }
    if (Number.isInteger(x) && x >= 0 && x <= Number.MAX_SAFE_INTEGER) {
      grow(w, 9);
      w.buf[w.p++] = 0xcf;
      w.v.setUint32(w.p, Math.floor(x / 4294967296));
      w.v.setUint32(w.p + 4, x >>> 0);
      w.p += 8;
      return undefined;
    }
    grow(w, 9);
    w.buf[w.p++] = 0xcb;
    w.v.setFloat64(w.p, x);
    w.p += 8;
    return undefined;
  }
  if (typeof x === 'string') {
    const b = utf8Bytes(x);
    if (b.length <= 31) putByte(w, 0xa0 | b.length);
    else if (b.length <= 0xff) {
      putByte(w, 0xd9);
      putByte(w, b.length);
    } else putHead(w, 0, -1, 0xda, 0xdb, b.length);
    grow(w, b.length);
    for (let i = 0; i < b.length; i++) w.buf[w.p++] = b[i];
    return undefined;
  }
  if (Array.isArray(x)) {
    putHead(w, 0x90, 15, 0xdc, 0xdd, x.length);
    for (let i = 0; i < x.length; i++) putValue(w, x[i]);
    return undefined;
  }
  if (typeof x === 'object') {
    const keys = Object.keys(x).filter((k) => x[k] !== undefined);
    putHead(w, 0x80, 15, 0xde, 0xdf, keys.length);
    for (const k of keys) {
      putValue(w, k);
      putValue(w, x[k]);
    }
    return undefined;
  }
  throw new Error(`msgpack: cannot encode a ${typeof x}`);
}

/** One value as MessagePack bytes (an ArrayBuffer of exactly the encoded length). */
export function encode(value) {
  const w = new Writer();
  putValue(w, value);
  return w.buf.buffer.slice(0, w.p);
}
