/**
 * Bilinear resizing exactly as PyTorch's `F.interpolate(x, size, mode='bilinear',
 * align_corners=False)` computes it (aten/src/ATen/native/UpSample.h, `area_pixel_compute_scale`
 * and `area_pixel_compute_source_index`; the CPU kernel of upsample_bilinear2d): half-pixel
 * centres, source coordinates below 0 clamped to 0, no antialiasing when shrinking. This is the
 * resize of pytorch-fid's InceptionV3 (to 299x299), so features computed after it match pytorch-fid's.
 */
import { AekitError } from '../../core/errors';

/** One output coordinate: the two source indices and their weights. */
interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float64Array;
  w1: Float64Array;
}

/**
 * Source taps of each of `outSize` output positions along an axis of `inSize` input positions.
 * The scale is a float32 (PyTorch's `area_pixel_compute_scale` on float tensors); the source
 * coordinate and weights are kept at full precision: on the fixtures (scripts/make-inception-
 * fixture.py) this matches torch 1.13 to 5e-8 where float32 weights differ by up to 2e-6.
 */
function taps(inSize: number, outSize: number): Taps {
  const scale = Math.fround(inSize / outSize);
  const out: Taps = { i0: new Int32Array(outSize), i1: new Int32Array(outSize), w0: new Float64Array(outSize), w1: new Float64Array(outSize) };
  for (let o = 0; o < outSize; o++) {
    const source = Math.max(scale * (o + 0.5) - 0.5, 0);
    const i0 = Math.floor(source);
    const lambda = source - i0;
    out.i0[o] = i0;
    out.i1[o] = i0 < inSize - 1 ? i0 + 1 : i0;
    out.w1[o] = lambda;
    out.w0[o] = 1 - lambda;
  }
  return out;
}

/**
 * Resize `planes` images of one channel each (row-major `inHeight`×`inWidth`, one after the other:
 * an NCHW batch is N×C planes) to `outHeight`×`outWidth`.
 *
 * @throws AekitError BAD_ARGUMENT when the sizes are not positive whole numbers or the data has
 *   another length.
 */
export function resizeBilinear(data: Float32Array, planes: number, inHeight: number, inWidth: number, outHeight: number, outWidth: number): Float32Array {
  for (const [name, v] of Object.entries({ planes, inHeight, inWidth, outHeight, outWidth })) {
    if (!Number.isInteger(v) || v < 1) throw new AekitError('BAD_ARGUMENT', `expected a whole number >= 1, found ${v}`, { where: `resizeBilinear(${name})` });
  }
  const inPlane = inHeight * inWidth;
  if (data.length !== planes * inPlane) {
    throw new AekitError('BAD_ARGUMENT', `expected ${planes} planes of ${inHeight}x${inWidth} = ${planes * inPlane} values, found ${data.length}`, { where: 'resizeBilinear(data)' });
  }
  if (inHeight === outHeight && inWidth === outWidth) return data;
  const rows = taps(inHeight, outHeight);
  const cols = taps(inWidth, outWidth);
  const outPlane = outHeight * outWidth;
  const out = new Float32Array(planes * outPlane);
  for (let p = 0; p < planes; p++) {
    const src = p * inPlane;
    let at = p * outPlane;
    for (let y = 0; y < outHeight; y++) {
      const r0 = src + rows.i0[y] * inWidth;
      const r1 = src + rows.i1[y] * inWidth;
      const h0 = rows.w0[y];
      const h1 = rows.w1[y];
      for (let x = 0; x < outWidth; x++, at++) {
        const c0 = cols.i0[x];
        const c1 = cols.i1[x];
        const v0 = cols.w0[x];
        const v1 = cols.w1[x];
        // PyTorch's order: the two rows interpolated along the width, then along the height.
        out[at] = (data[r0 + c0] * v0 + data[r0 + c1] * v1) * h0 + (data[r1 + c0] * v0 + data[r1 + c1] * v1) * h1;
      }
    }
  }
  return out;
}
