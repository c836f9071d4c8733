/**
 * Undo what a test created, last first, even when the test failed half-way. Every step runs;
 * the first error is rethrown after all of them so a leak is reported, never hidden.
 */
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
