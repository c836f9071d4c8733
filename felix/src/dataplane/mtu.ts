/**
 * The MTU a pod interface should have, worked out as Calico's Felix does: the smallest MTU of the
 * host's uplinks (interfaces matching `mtuIfacePattern`), less the overhead of the encapsulation
 * in use (VXLAN over IPv4: 50 bytes). `vxlanMTU` set in FelixConfiguration wins over the
 * detected value. Felix writes the result to a file (Calico's `/var/lib/calico/mtu`) that the CNI
 * plugin reads when its network config names no `mtu`, and gives the VXLAN device the same MTU.
 * Pure: the driver feeds in `ip -json link show`.
 */

/** Calico's default MTUIfacePattern: ethernet, wireless, wwan and InfiniBand uplinks. */
const DEFAULT_MTU_IFACE_PATTERN = '^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)';
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
const VXLAN_OVERHEAD = 50;

export interface MtuPlan {
  /** Smallest MTU of the matching uplinks; undefined when none matches (nothing is written). */
  hostMtu?: number;
  /** For the VXLAN device, when VXLAN is in use. */
  vxlanMtu?: number;
  /** For pod interfaces: the VXLAN MTU with VXLAN, else the host's. */
  podMtu?: number;
}

/** `config` is the dataplane's (FelixConfiguration spec with env and file laid over). */
export function planMtu(
  links: ReadonlyArray<Record<string, unknown>>,
  config: Readonly<Record<string, unknown>>,
  vxlanEnabled: boolean,
  interfacePrefixes: readonly string[],
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
    if (!pattern.test(name) || interfacePrefixes.some((p) => name.startsWith(p)) || name === 'vxlan.calico') continue;
    if (typeof l.mtu === 'number' && l.mtu > 0 && (hostMtu === undefined || l.mtu < hostMtu)) hostMtu = l.mtu;
  }
  const plan: MtuPlan = {};
  if (hostMtu !== undefined) plan.hostMtu = hostMtu;
  const configured = typeof config.vxlanMTU === 'number' && config.vxlanMTU > 0 ? config.vxlanMTU : undefined;
  if (vxlanEnabled) {
    const vx = configured ?? (hostMtu === undefined ? undefined : hostMtu - VXLAN_OVERHEAD);
    if (vx !== undefined) plan.vxlanMtu = plan.podMtu = vx;
  } else if (hostMtu !== undefined) {
    plan.podMtu = hostMtu;
  }
  return plan;
}
