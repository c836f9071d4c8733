/**
 * Command-line numbers for the bench CLIs: parsed once, range-checked, with the flag named in
 * the error (`--clients must be an integer in 1..100000, got "x"`).
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';
export class UsageError extends CattailError<ErrorCodeOf<'bench'>> {
  constructor(message: string) {
    super('BENCH_USAGE', message);
  }
}

export function intArg(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  const v = Number(raw.replaceAll('_', '').replaceAll(',', ''));
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return v;
}

export function numArg(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name} must be a number in ${min}..${max}, got "${raw}"`);
  return v;
}
