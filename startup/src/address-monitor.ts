/**
 * calico/node's address monitor (`monitor-addresses`, the chart's `monitor-addresses`
 * container): `node init` sets the Node's BGP addresses once at start; this repeats that step
 * every poll interval (AUTODETECT_POLL_INTERVAL, Calico's 60 s), so a host whose address
 * changes while it runs (a new DHCP lease, a re-addressed interface, a kubelet reporting a new
 * InternalIP) gets its Node updated, and with it the BGP peerings and VXLAN routes of every other
 * node, without a restart.
 *
 *   every pollMs: interfaces now (+ the Kubernetes Node's addresses) ─▶ updateNodeAddresses
 *                 (startup.ts step 1: IP / IP6 as configured; autodetect re-detects, a fixed or
 *                 unset-with-an-address setting keeps what the Node has) ─▶ written if changed
 *
 * What changes is exactly what `node init` would write on a restart at that moment, nothing
 * else. A new address another Node already holds is a conflict (unless DISABLE_NODE_IP_CHECK):
 * as calico/node does, the monitor then clears this Node's autodetected address of that family
 * (so the address is not claimed twice) and stops with the error; its container restarts and
 * the operator sees why. Any other failure (the datastore away) is logged and retried at the
 * next poll.
 */
import type { StartupConfig } from './config.js';
import { StartupError } from './errors.js';
import { clearNodeAddresses, updateNodeAddresses, type NodeAddresses, type StartupDeps, type StartupLogger } from './startup.js';

/** Calico's DEFAULT_MONITOR_IP_POLL_INTERVAL. */
export const DEFAULT_POLL_MS = 60_000;

export interface AddressMonitorOptions {
  cfg: StartupConfig;
  deps: StartupDeps;
  log: StartupLogger;
  pollMs?: number;
  /** After each check: its result or error (tests, status). */
  onCheck?: (result: NodeAddresses | Error) => void;
  /** The monitor stopped on an address conflict (its address cleared first). */
  onFatal?: (err: StartupError) => void;
}

export class AddressMonitor {
  readonly #o: AddressMonitorOptions & { pollMs: number };
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #running: Promise<void> = Promise.resolve();
  #last: NodeAddresses | undefined;

  constructor(o: AddressMonitorOptions) {
    this.#o = { pollMs: DEFAULT_POLL_MS, ...o };
  }

  /** The first check (its error thrown: a monitor that cannot start should not run), then the polls. */
  async start(): Promise<NodeAddresses> {
    const first = await this.#check();
    this.#schedule();
    return first;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#poll();
    }, this.#o.pollMs);
  }

  async #poll(): Promise<void> {
    try {
      await this.#check();
    } catch (err) {
      if (err instanceof StartupError && err.code === 'STARTUP_ADDRESS_CONFLICT') {
        await this.#onConflict(err);
        return;
      }
      this.#o.log.warn('checking the node addresses failed; trying again at the next poll', { error: (err as Error).message });
    }
    this.#schedule();
  }

  async #check(): Promise<NodeAddresses> {
    try {
      const result = await updateNodeAddresses(this.#o.cfg, { ...this.#o.deps, log: this.#o.log });
      if (result.written && this.#last) {
        this.#o.log.info('the node addresses changed; Node updated', {
          ipv4Address: result.ipv4Address ?? null,
          ipv6Address: result.ipv6Address ?? null,
          before: { ipv4Address: this.#last.ipv4Address ?? null, ipv6Address: this.#last.ipv6Address ?? null },
        });
      }
      this.#last = result;
      this.#o.onCheck?.(result);
      return result;
    } catch (err) {
      this.#o.onCheck?.(err as Error);
      throw err;
    }
  }

  /** calico/node's answer to a conflict: free our autodetected addresses, then stop with the error. */
  async #onConflict(err: StartupError): Promise<void> {
    const { cfg } = this.#o;
    const families = { v4: cfg.ipv4.kind === 'autodetect', v6: cfg.ipv6.kind === 'autodetect' };
    this.#o.log.warn('a detected address is held by another Node: clearing this Node’s autodetected addresses and stopping', {
      error: err.message,
      cleared: families,
    });
    try {
      if (families.v4 || families.v6) await clearNodeAddresses(this.#o.deps.ds, cfg.nodeName, families);
    } catch (clearErr) {
      this.#o.log.warn('could not clear the addresses', { error: (clearErr as Error).message });
    }
    this.#stopped = true;
    this.#o.onFatal?.(err);
  }
}
