/**
 * Peak signal-to-noise ratio, as scikit-image's `peak_signal_noise_ratio` computes it.
 * Images are float HxWxC, row-major, channels last.
 */
import { checkImageArgs, type ImageMetricOptions } from './ssim';

/**
 * PSNR in dB of `b` against the reference `a`, like
 * `skimage.metrics.peak_signal_noise_ratio(a, b, data_range=dataRange)`:
 * 10·log10(R² / MSE), the MSE taken over every pixel and channel in float64.
 *
 * @param a - Reference image, H×W×C row-major.
 * @param b - Test image, same shape.
 * @param height - H.
 * @param width - W.
 * @param channels - C.
 * @param opts - `dataRange` R (default 1).
 * @returns PSNR in dB; `Infinity` when the images are identical (MSE = 0).
 * @throws AekitError `BAD_ARGUMENT` on a wrong size, a non-finite pixel or a bad `dataRange`.
 */
export function psnr(
  a: Float32Array,
  b: Float32Array,
  height: number,
  width: number,
  channels: number,
  opts: ImageMetricOptions = {},
): number {
  const dataRange = checkImageArgs('psnr', a, b, 1, height, width, channels, opts);
  return psnrUnchecked(a, b, dataRange);
}

/**
 * Mean of {@link psnr} over `count` image pairs stored back to back (N×H×W×C). The mean of
 * per-image PSNRs (not the PSNR of the pooled MSE), so one identical pair makes it `Infinity`.
 *
 * @param a - Reference batch, count×H×W×C row-major.
 * @param b - Test batch, same shape.
 * @param count - Number of images in each batch (at least 1).
 * @param height - H.
 * @param width - W.
 * @param channels - C.
 * @param opts - `dataRange` R (default 1).
 * @throws AekitError `BAD_ARGUMENT` as {@link psnr}, or when `count` does not match the lengths.
 */
export function meanPsnr(
  a: Float32Array,
  b: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: number,
  opts: ImageMetricOptions = {},
): number {
  const dataRange = checkImageArgs('meanPsnr', a, b, count, height, width, channels, opts);
  const size = height * width * channels;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const at = i * size;
    sum += psnrUnchecked(a.subarray(at, at + size), b.subarray(at, at + size), dataRange);
  }
  return sum / count;
}

function psnrUnchecked(a: Float32Array, b: Float32Array, dataRange: number): number {
  let squares = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = a[i] - b[i];
    squares += diff * diff;
  }
  const mse = squares / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((dataRange * dataRange) / mse);
}
