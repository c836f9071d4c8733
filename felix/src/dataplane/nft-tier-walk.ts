/**
 * The chain body that walks one endpoint's tiers in one direction (see the diagram in
 * nft-render.ts): per tier, each policy is jumped to unless PASS is set; ACCEPT returns to the
 * base chain; a tier with defaultAction Deny drops what nothing passed; then the profiles; then
 * drop. The kind of chain changes the ends, as Calico's endpoint chains do:
 *
 *   normal     tiers, profiles, drop                      (workloads; host endpoints' own traffic)
 *   forward    tiers, drop; no tiers: ACCEPT and return    (host endpoints' applyOnForward policy:
 *                                                          forwarded traffic is allowed when no such
 *                                                          policy applies in that direction)
 *   untracked  tiers only, no drop at the end; an allowed packet is also `notrack`ed
 *   prednat    tiers only, no drop at the end              (doNotTrack / preDNAT: what they do not
 *                                                          decide goes on to normal policy)
 */
import type { TierInfo } from '../proto/messages.js';
import { policyKey, type DesiredState } from './desired-state.js';
import { policyChainName, profileChainName } from './names.js';

export interface MarkBits {
  markAccept: number;
  markPass: number;
}

export type EndpointChainKind = 'normal' | 'forward' | 'untracked' | 'prednat';

const hex = (n: number): string => `0x${n.toString(16)}`;

export function endpointChainLines(
  state: DesiredState,
  endpoint: { tiers: TierInfo[]; profileIds: string[] },
  direction: 'in' | 'out',
  marks: MarkBits,
  kind: EndpointChainKind = 'normal',
): string[] {
  const acc = hex(marks.markAccept);
  const pass = hex(marks.markPass);
  const lines = [`meta mark set meta mark & ${hex(~(marks.markAccept | marks.markPass) >>> 0)}`];
  const clearPass = `meta mark set meta mark & ${hex(~marks.markPass >>> 0)}`;
  const final = kind === 'normal' || kind === 'forward';
  const tiers = endpoint.tiers.filter((t) => (direction === 'in' ? t.ingressPolicies : t.egressPolicies).length > 0);
  if (tiers.length === 0 && kind === 'forward') return [...lines, `meta mark set meta mark | ${acc} return`];
  tiers.forEach((tier, i) => {
    if (i > 0) lines.push(clearPass);
    for (const id of direction === 'in' ? tier.ingressPolicies : tier.egressPolicies) {
      const key = policyKey(id);
      if (!state.policies.has(key)) continue;
      lines.push(`meta mark & ${pass} == 0 jump ${policyChainName(key, direction)}`);
      // Calico maps an untracked Allow to "NOTRACK and allow": no conntrack entry either way.
      if (kind === 'untracked') lines.push(`meta mark & ${acc} == ${acc} notrack`);
      lines.push(`meta mark & ${acc} == ${acc} return`);
    }
    if (final && tier.defaultAction === 'Deny') lines.push(`meta mark & ${pass} == 0 drop`);
  });
  if (!final) return tiers.length > 0 ? [...lines, clearPass] : lines;
  if (tiers.length > 0) lines.push(clearPass);
  if (kind === 'normal') {
    for (const name of endpoint.profileIds) {
      if (!state.profiles.has(name)) continue;
      lines.push(`jump ${profileChainName(name, direction)}`);
      lines.push(`meta mark & ${acc} == ${acc} return`);
    }
  }
  lines.push('drop');
  return lines;
}
