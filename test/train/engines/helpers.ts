/** Comparisons shared by the training-engine tests (Node and browser). */

/**
 * Relative L2 difference |a - b| / |b| of a candidate tensor `a` from the expected `b` (absolute
 * when `b` is all zeros): the measure of "the same updated weights (relative 1e-4)".
 */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}
