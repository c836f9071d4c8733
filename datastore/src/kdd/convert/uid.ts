/**
 * Calico's `ConvertUID`: the UID of a resource derived from a Kubernetes object (the profiles of
 * namespaces and service accounts, the policies of Kubernetes NetworkPolicies) is the object's
 * UID with the bits of every byte reversed, except byte 6 (the UUID version) and byte 8 (the
 * variant). Deterministic, so every reader derives the same UID, and different from the
 * source's, because Kubernetes' garbage collector is confused by two objects with one UID.
 */
import { InputProblem } from './result.js';

const HEX32 = /^[0-9a-fA-F]{32}$/;

/** The bytes of a UUID in the textual forms Go's `uuid.Parse` accepts. */
function uuidBytes(text: string): Uint8Array | undefined {
  let s = text;
  if (s.length === 45 && s.toLowerCase().startsWith('urn:uuid:')) s = s.slice(9);
  else if (s.length === 38 && s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (s.length === 36) {
    if (s[8] !== '-' || s[13] !== '-' || s[18] !== '-' || s[23] !== '-') return undefined;
    s = s.slice(0, 8) + s.slice(9, 13) + s.slice(14, 18) + s.slice(19, 23) + s.slice(24);
  }
  if (!HEX32.test(s)) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function reverseBits(b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) r |= ((b >> i) & 1) << (7 - i);
  return r;
}

export function convertUID(uid: string): string {
  const bytes = uuidBytes(uid);
  if (!bytes) throw new InputProblem(`metadata.uid "${uid}" is not a UUID`);
  for (let i = 0; i < 16; i++) if (i !== 6 && i !== 8) bytes[i] = reverseBits(bytes[i]);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
