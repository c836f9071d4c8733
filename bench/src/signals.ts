/**
 * How a bench CLI ends what it started when it is interrupted: on SIGINT/SIGTERM the orderly
 * `cleanup()` (each child by its own pid), cut short by `killNow()` after 20 s; on any exit,
 * `killNow()` so no child outlives the bench. Exit code 130, as a shell reports an interrupt.
 */
export interface BenchCleanup {
  cleanup(): Promise<void>;
  /** SIGKILL whatever is still running, by pid; synchronous (it runs on 'exit'). */
  killNow(): void;
  log(msg: string): void;
}

export function installSignalHandlers(c: BenchCleanup): void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    c.log(`${sig}: cleaning up`);
    const hard = setTimeout(() => {
      c.killNow();
      process.exit(130);
    }, 20_000);
    void c.cleanup().finally(() => {
      clearTimeout(hard);
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => c.killNow());
}
