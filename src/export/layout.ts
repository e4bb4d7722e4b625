/**
 * NHWC (tfjs) <-> NCHW (artifact) bookkeeping shared by the converter and the verifier.
 * Only rank-4 tensors change layout; every other rank keeps tfjs's axis order.
 */

/** Permutation taking an NHWC tensor to NCHW. */
export const NHWC_TO_NCHW: readonly number[] = Object.freeze([0, 3, 1, 2]);
/** Permutation taking an NCHW tensor to NHWC. */
export const NCHW_TO_NHWC: readonly number[] = Object.freeze([0, 2, 3, 1]);

/** Whether a tensor of this rank is stored NCHW in the artifact. */
export function isImageRank(rank: number): boolean {
  return rank === 4;
}

/** The artifact's shape for a tfjs shape (NHWC -> NCHW for rank 4). */
export function onnxShapeOf<T>(tfjsShape: readonly T[]): T[] {
  return isImageRank(tfjsShape.length) ? NHWC_TO_NCHW.map((i) => tfjsShape[i]) : [...tfjsShape];
}

/** Where tfjs axis `axis` (negative allowed) of a rank-`rank` tensor sits in the artifact. */
export function onnxAxisOf(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new RangeError(`axis ${axis} out of range for rank ${rank}`);
  // NCHW position p holds NHWC axis NHWC_TO_NCHW[p], so N->0, H->2, W->3, C->1.
  return isImageRank(rank) ? NHWC_TO_NCHW.indexOf(a) : a;
}

/** Transpose a dense row-major array: output axis i is input axis perm[i]. */
export function transposeArray<T extends Float32Array | Int32Array>(data: T, shape: readonly number[], perm: readonly number[]): T {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = stride;
    stride *= shape[i];
  }
  const permStrides = perm.map((p) => inStrides[p]);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < data.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += index[i] * permStrides[i];
    out[o] = data[src];
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i] < outShape[i]) break;
      index[i] = 0;
    }
  }
  return out;
}
