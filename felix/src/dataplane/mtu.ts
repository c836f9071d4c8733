/**
 * The MTU a pod interface should have, worked out as Calico's Felix does: the smallest MTU of the
 * host's uplinks (interfaces matching `mtuIfacePattern`), less the overhead of the encapsulation
 * in use (VXLAN over IPv4: 50 bytes, over IPv6: 70), the smallest when both are on.
 * `vxlanMTU` / `vxlanMTUV6` set in FelixConfiguration win over the detected values. Felix writes the result to a file (Calico's `/var/lib/calico/mtu`) that the CNI
 * plugin reads when its network config names no `mtu`, and gives the VXLAN device the same MTU.
 * Pure: the driver feeds in `ip -json link show`.
 */

/** Calico's default MTUIfacePattern: ethernet, wireless, wwan and InfiniBand uplinks. */
const DEFAULT_MTU_IFACE_PATTERN = '^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)';
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
const VXLAN_OVERHEAD = 50;
/** The same with an outer IPv6 header (40). */
const VXLAN_OVERHEAD_V6 = 70;

export interface MtuPlan {
  /** Smallest MTU of the matching uplinks; undefined when none matches (nothing is written). */
  hostMtu?: number;
  /** For the VXLAN device, when VXLAN is in use. */
  vxlanMtu?: number;
  /** For the IPv6 VXLAN device, when IPv6 VXLAN is in use. */
  vxlanMtuV6?: number;
  /** For pod interfaces: the smallest VXLAN MTU in use, else the host's. */
  podMtu?: number;
}

/** `config` is the dataplane's (FelixConfiguration spec with env and file laid over). */
export function planMtu(
  links: ReadonlyArray<Record<string, unknown>>,
  config: Readonly<Record<string, unknown>>,
  vxlanEnabled: boolean,
  interfacePrefixes: readonly string[],
  vxlanEnabledV6 = false,
): MtuPlan {
  const patternText = typeof config.mtuIfacePattern === 'string' && config.mtuIfacePattern !== '' ? config.mtuIfacePattern : DEFAULT_MTU_IFACE_PATTERN;
  let pattern: RegExp;
  try {
    pattern = new RegExp(patternText);
  } catch {
    pattern = new RegExp(DEFAULT_MTU_IFACE_PATTERN);
  }
  let hostMtu: number | undefined;
  for (const l of links) {
    const name = typeof l.ifname === 'string' ? l.ifname : '';
    if (!pattern.test(name) || interfacePrefixes.some((p) => name.startsWith(p)) || name === 'vxlan.calico' || name === 'vxlan-v6.calico') continue;
    if (typeof l.mtu === 'number' && l.mtu > 0 && (hostMtu === undefined || l.mtu < hostMtu)) hostMtu = l.mtu;
  }
  const plan: MtuPlan = {};
  if (hostMtu !== undefined) plan.hostMtu = hostMtu;
  const configured = (key: string): number | undefined => {
    const v = config[key];
    return typeof v === 'number' && v > 0 ? v : undefined;
  };
  const encap: number[] = [];
  if (vxlanEnabled) {
    const vx = configured('vxlanMTU') ?? (hostMtu === undefined ? undefined : hostMtu - VXLAN_OVERHEAD);
    if (vx !== undefined) encap.push((plan.vxlanMtu = vx));
  }
  if (vxlanEnabledV6) {
    const vx = configured('vxlanMTUV6') ?? (hostMtu === undefined ? undefined : hostMtu - VXLAN_OVERHEAD_V6);
    if (vx !== undefined) encap.push((plan.vxlanMtuV6 = vx));
  }
  if (encap.length > 0) plan.podMtu = Math.min(...encap);
  else if (!vxlanEnabled && !vxlanEnabledV6 && hostMtu !== undefined) plan.podMtu = hostMtu;
  return plan;
}
