/**
 * Structural equality of JSON values (what projected values are): objects compare by key set
 * regardless of order, arrays by position, and a key holding `undefined` counts as absent, as
 * it does once encoded. No allocation, unlike comparing canonical encodings, and no second copy
 * of every value kept around just to compare against.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  const aArr = Array.isArray(a);
  if (aArr !== Array.isArray(b)) return false;
  if (aArr) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!jsonEqual(x[i], y[i])) return false;
    return true;
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    // msgpack bin values decode to byte arrays.
    return (
      ArrayBuffer.isView(a) &&
      ArrayBuffer.isView(b) &&
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
    );
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let xCount = 0;
  for (const k in x) {
    const xv = x[k];
    if (xv === undefined) continue;
    xCount++;
    if (!Object.hasOwn(y, k) || !jsonEqual(xv, y[k])) return false;
  }
  let yCount = 0;
  for (const k in y) if (y[k] !== undefined) yCount++;
  return xCount === yCount;
}
