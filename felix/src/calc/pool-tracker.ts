/**
 * IP pools for the dataplane (Calico's IPAMPoolUpdate and EncapsulationResolver): each pool's
 * CIDR, NAT-outgoing and encapsulation modes (the driver needs them for masquerade rules and to
 * bring the VXLAN device up or down), and whether any pool uses IPIP or VXLAN at all.
 */
import type { IPAMPool } from '../proto/messages.js';
import type { CalcCallbacks } from './callbacks.js';
import type { PoolData } from './decode.js';

export type PoolOutput = Pick<CalcCallbacks, 'onPoolUpdate' | 'onPoolRemove' | 'onEncapsulationUpdate'>;

export class PoolTracker {
  readonly #out: PoolOutput;
  readonly #pools = new Map<string, PoolData>();
  #encap = { ipipEnabled: false, vxlanEnabled: false, vxlanEnabledV6: false };

  constructor(out: PoolOutput) {
    this.#out = out;
  }

  updatePool(name: string, pool: PoolData | undefined): void {
    const old = this.#pools.get(name);
    if (old !== undefined && old.id !== pool?.id) this.#out.onPoolRemove(old.id);
    if (pool === undefined) {
      this.#pools.delete(name);
    } else {
      this.#pools.set(name, pool);
      const msg: IPAMPool = {
        cidr: pool.cidrText,
        masquerade: pool.natOutgoing,
        ipipMode: pool.ipipMode,
        vxlanMode: pool.vxlanMode,
        disabled: pool.disabled,
      };
      this.#out.onPoolUpdate(pool.id, msg);
    }
    this.#updateEncapsulation();
  }

  #updateEncapsulation(): void {
    const encap = { ipipEnabled: false, vxlanEnabled: false, vxlanEnabledV6: false };
    for (const p of this.#pools.values()) {
      if (p.ipipMode !== 'Never') encap.ipipEnabled = true;
      if (p.vxlanMode !== 'Never') {
        if (p.cidr.version === 4) encap.vxlanEnabled = true;
        else encap.vxlanEnabledV6 = true;
      }
    }
    const e = this.#encap;
    if (e.ipipEnabled === encap.ipipEnabled && e.vxlanEnabled === encap.vxlanEnabled && e.vxlanEnabledV6 === encap.vxlanEnabledV6) return;
    this.#encap = encap;
    this.#out.onEncapsulationUpdate(encap);
  }
}
