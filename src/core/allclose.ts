/**
 * The one rule for "two runtimes give the same numbers", numpy's `allclose`: element by element,
 * `|actual - expected| <= atol + rtol * |expected|`, the expected value being the reference's.
 * A pure absolute bound fails on real data: an autoencoder's codes and a classifier's logits are
 * unbounded, and float32 rounding grows with the magnitude (a Fashion-MNIST conv AE's codes
 * differed from tfjs by 1.3e-4 on onnxruntime-web, failing a 1e-4 absolute bound). The relative part
 * scales the bound with each value; the absolute part covers values near zero, where cancellation
 * leaves rounding noise that no relative bound allows.
 */

/** The two parts of an allclose bound. */
export interface Tolerance {
  /** Relative part: allowed difference per unit of |expected|. */
  rtol: number;
  /** Absolute part: allowed difference at expected = 0. */
  atol: number;
}

/**
 * float32 outputs of one model on two runtimes (differently ordered sums, fused kernels), through
 * conv stacks and unbounded outputs. rtol 1e-3 is torch.onnx.verification's default for exported
 * models; atol 1e-4 is the absolute bound aekit's export check had before rtol, which holds for
 * values near zero.
 */
export const FP32_CLOSE: Readonly<Tolerance> = Object.freeze({ rtol: 1e-3, atol: 1e-4 });

/**
 * A float16-weight artifact against the float32 model: fp16 keeps 11 bits of mantissa (~5e-4
 * relative per weight), and errors of many weights add up in each output; 1e-2 was the former
 * absolute bound.
 */
export const FP16_CLOSE: Readonly<Tolerance> = Object.freeze({ rtol: 1e-2, atol: 1e-2 });

/** The element of a comparison that is furthest from its bound. */
export interface WorstElement {
  index: number;
  actual: number;
  expected: number;
  /** |actual - expected|. */
  absDiff: number;
  /** |actual - expected| / |expected| (Infinity for a difference at expected = 0, NaN counts as Infinity). */
  relDiff: number;
  /** |actual - expected| / (atol + rtol * |expected|): above 1 means outside the bound. */
  ratio: number;
}

/** What {@link compareClose} found. */
export interface Closeness {
  /** Every element is within its bound (and the lengths agree). */
  ok: boolean;
  /** Largest |actual - expected| (Infinity when a value is NaN or the lengths differ). */
  maxAbsDiff: number;
  /** The element with the largest {@link WorstElement.ratio}; absent when the arrays are empty or their lengths differ. */
  worst?: WorstElement;
}

/**
 * Compare `actual` with the reference `expected` by `|a - b| <= atol + rtol * |b|`. NaN anywhere
 * is infinitely far (never close), as are arrays of different lengths.
 */
export function compareClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance): Closeness {
  if (actual.length !== expected.length) return { ok: false, maxAbsDiff: Infinity };
  let maxAbsDiff = 0;
  let worst: WorstElement | undefined;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    const raw = Math.abs(a - b);
    const absDiff = Number.isNaN(raw) ? Infinity : raw;
    if (absDiff > maxAbsDiff) maxAbsDiff = absDiff;
    const bound = tolerance.atol + tolerance.rtol * Math.abs(b);
    const ratio = absDiff === 0 ? 0 : bound > 0 ? absDiff / bound : Infinity;
    if (worst === undefined || ratio > worst.ratio) {
      const relDiff = absDiff === 0 ? 0 : Math.abs(b) > 0 ? absDiff / Math.abs(b) : Infinity;
      worst = { index: i, actual: a, expected: b, absDiff, relDiff, ratio };
    }
  }
  return { ok: worst === undefined || worst.ratio <= 1, maxAbsDiff, worst };
}

/** Whether `actual` is close to `expected` element by element (see {@link compareClose}). */
export function allclose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance): boolean {
  return compareClose(actual, expected, tolerance).ok;
}

/** The rule with its numbers, e.g. `0.0001 + 0.001·|reference|`, for messages. */
export function describeTolerance(tolerance: Tolerance, reference = 'reference'): string {
  return `${tolerance.atol} + ${tolerance.rtol}·|${reference}|`;
}
