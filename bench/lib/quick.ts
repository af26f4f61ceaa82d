// BENCH_QUICK=1: every scenario once, about 2 s per load, to check that it runs and prints; its
// figures are not results.
export const QUICK = process.env.BENCH_QUICK === '1'

/** `full` seconds, or at most 2 in quick mode. */
export function seconds(full: number): number {
  return QUICK ? Math.min(full, 2) : full
}

/** `full` rounds, or one in quick mode. */
export function rounds(full: number): number {
  return QUICK ? 1 : full
}
