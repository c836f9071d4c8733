/**
 * Felix's datastore configuration (Calico's ConfigBatcher): FelixConfiguration `default` for the
 * cluster, overridden key by key by `node.<this node>`, plus ClusterInformation `default`.
 * Parsing and validating the values is the agent's job (its config schema); the graph only
 * merges and reports, once at start and whenever the merged result changes.
 */
import type { CalcCallbacks } from './callbacks.js';

type Spec = Record<string, unknown>;

export class ConfigCalculator {
  readonly #out: Pick<CalcCallbacks, 'onConfigUpdate'>;
  readonly #nodeConfigName: string;
  #global: Spec | undefined;
  #node: Spec | undefined;
  #cluster: Spec | undefined;

  constructor(nodeName: string, out: Pick<CalcCallbacks, 'onConfigUpdate'>) {
    this.#out = out;
    this.#nodeConfigName = `node.${nodeName}`;
  }

  /** Returns false for a FelixConfiguration of another node (not ours to read). */
  update(kind: 'FelixConfiguration' | 'ClusterInformation', name: string, spec: Spec | undefined): boolean {
    if (kind === 'ClusterInformation') {
      if (name !== 'default') return false;
      this.#cluster = spec;
    } else if (name === 'default') {
      this.#global = spec;
    } else if (name === this.#nodeConfigName) {
      this.#node = spec;
    } else {
      return false;
    }
    this.send();
    return true;
  }

  /** Reports the merged configuration (the sequencer drops it when nothing changed). */
  send(): void {
    this.#out.onConfigUpdate({ config: { ...this.#global, ...this.#node }, clusterInformation: { ...this.#cluster } });
  }
}
