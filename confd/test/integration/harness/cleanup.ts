// Undo what a test created, last first, even when the test failed half-way. Every step runs;
// the first error is rethrown after all of them so a leak is reported, never hidden.
export class Cleanup {
  readonly #steps: Array<{ what: string; fn: () => Promise<void> | void }> = [];

  add(what: string, fn: () => Promise<void> | void): void {
    this.#steps.push({ what, fn });
  }

  async run(): Promise<void> {
    let first: Error | undefined;
    while (this.#steps.length) {
      const step = this.#steps.pop() as { what: string; fn: () => Promise<void> | void };
      try {
        await step.fn();
      } catch (err) {
        first ??= new Error(`cleanup "${step.what}" failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    }
    if (first) throw first;
  }
}

/**
 * Polls `pred` until it holds or `ms` pass. Used only where the state lives in other processes
 * (BIRD sessions, kernel routes, Typha): there is no event to wait on, and the bound keeps a
 * broken run short.
 */
export async function until<T>(pred: () => Promise<T | undefined | false> | T | undefined | false, what: string | (() => string), ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
