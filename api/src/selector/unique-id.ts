/**
 * Calico's content-derived IDs (libcalico-go `hash.MakeUniqueID`):
 *
 *   <prefix> ":" base64url-without-padding( SHA-224( UTF-8( <prefix> ":" <content> ) ) )
 *
 * Selectors use prefix "s", so `all()` has ID `s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug` in both
 * Calico and Cattail. We hash rather than use the canonical string itself because the ID ends up
 * in kernel object names (IP sets) whose length is bounded, and because sharing Calico's IDs
 * makes dataplane state comparable between the two implementations.
 */

import { sha224 } from './sha224.js';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const utf8 = new TextEncoder();

export function makeUniqueId(prefix: string, content: string): string {
  return `${prefix}:${base64UrlRaw(sha224(utf8.encode(`${prefix}:${content}`)))}`;
}

/** RFC 4648 section 5 alphabet, no `=` padding (Go's base64.RawURLEncoding). */
export function base64UrlRaw(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += BASE64URL[n >>> 18] + BASE64URL[(n >>> 12) & 63];
    out += BASE64URL[(n >>> 6) & 63] + BASE64URL[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += BASE64URL[n >>> 18] + BASE64URL[(n >>> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += BASE64URL[n >>> 18] + BASE64URL[(n >>> 12) & 63] + BASE64URL[(n >>> 6) & 63];
  }
  return out;
}
