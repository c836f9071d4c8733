/**
 * Event-driven waiting for the client's and the server's test harnesses: a predicate is
 * re-checked whenever the harness says something changed (a frame arrived, a socket closed),
 * so a test waits on events, never on sleeps or polling.
 */
export class Waitable {
  #waiters: Array<{ pred: () => boolean; resolve: () => void }> = [];

  changed(): void {
    if (this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.pred()) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `pred` holds (at once, if it already does). */
  until(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }
}
