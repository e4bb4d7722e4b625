/**
 * Structural similarity (SSIM), exactly as scikit-image's `structural_similarity` computes it
 * with `gaussian_weights=True, sigma=1.5, use_sample_covariance=False` (the settings of Wang et
 * al. 2004). Images are float HxWxC, row-major, channels last.
 */
import { AekitError } from '../../core/errors';

/** Options shared by the image metrics. */
export interface ImageMetricOptions {
  /**
   * Distance between the smallest and largest possible pixel value (skimage's `data_range`).
   * Default {@link DEFAULT_DATA_RANGE}: images in [0, 1]. Use 2 for images in [-1, 1], 255 for bytes.
   */
  dataRange?: number;
}

/** Default `dataRange`: aekit's images are floats in [0, 1]. */
export const DEFAULT_DATA_RANGE = 1;

/** Standard deviation of the Gaussian window (skimage `structural_similarity` `sigma`, Wang et al. 2004). */
export const SSIM_SIGMA = 1.5;

/** skimage sets `truncate = 3.5` so that sigma 1.5 gives an 11-tap window, as in Wang et al. 2004. */
const SSIM_TRUNCATE = 3.5;

/** Stabilising constants C1 = (K1·R)², C2 = (K2·R)² (skimage defaults `K1=0.01`, `K2=0.03`). */
const SSIM_K1 = 0.01;
const SSIM_K2 = 0.03;

/** Window radius, computed like scipy.ndimage's `int(truncate * sigma + 0.5)`: 5. */
const SSIM_RADIUS = Math.trunc(SSIM_TRUNCATE * SSIM_SIGMA + 0.5);

/** Window side (11): images must be at least this large, and the border cropped before averaging is its radius. */
export const SSIM_WIN_SIZE = 2 * SSIM_RADIUS + 1;

/** scipy.ndimage `_gaussian_kernel1d(sigma, 0, radius)`: exp(-x²/(2σ²)) normalised to sum 1. */
const SSIM_KERNEL: Float64Array = (() => {
  const k = new Float64Array(SSIM_WIN_SIZE);
  let sum = 0;
  for (let x = -SSIM_RADIUS; x <= SSIM_RADIUS; x++) {
    k[x + SSIM_RADIUS] = Math.exp((-0.5 / (SSIM_SIGMA * SSIM_SIGMA)) * x * x);
    sum += k[x + SSIM_RADIUS];
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
})();

/**
 * Mean SSIM of two images, like
 * `skimage.metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=dataRange, channel_axis=2)` (no `channel_axis` for
 * C = 1): local statistics from an 11×11 Gaussian window (scipy `gaussian_filter`, mode
 * 'reflect'), the SSIM map averaged after cropping 5 pixels from each border, then averaged over
 * channels. Computed in float64.
 *
 * @param a - First image, H×W×C row-major (channels last).
 * @param b - Second image, same shape.
 * @param height - H, at least {@link SSIM_WIN_SIZE}.
 * @param width - W, at least {@link SSIM_WIN_SIZE}.
 * @param channels - C (1 for grayscale, 3 for RGB).
 * @param opts - `dataRange` (default 1).
 * @returns SSIM in [-1, 1]; 1 for identical images.
 * @throws AekitError `BAD_ARGUMENT` on a wrong size, a too-small image, a non-finite pixel or a bad `dataRange`.
 */
export function ssim(
  a: Float32Array,
  b: Float32Array,
  height: number,
  width: number,
  channels: number,
  opts: ImageMetricOptions = {},
): number {
  const dataRange = checkImageArgs('ssim', a, b, 1, height, width, channels, opts);
  checkMinSize('ssim', height, width);
  return ssimUnchecked(a, b, height, width, channels, dataRange);
}

/**
 * Mean of {@link ssim} over `count` image pairs stored back to back (N×H×W×C).
 *
 * @param a - First batch, count×H×W×C row-major.
 * @param b - Second batch, same shape.
 * @param count - Number of images in each batch (at least 1).
 * @param height - H, at least {@link SSIM_WIN_SIZE}.
 * @param width - W, at least {@link SSIM_WIN_SIZE}.
 * @param channels - C.
 * @param opts - `dataRange` (default 1).
 * @throws AekitError `BAD_ARGUMENT` as {@link ssim}, or when `count` does not match the lengths.
 */
export function meanSsim(
  a: Float32Array,
  b: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: number,
  opts: ImageMetricOptions = {},
): number {
  const dataRange = checkImageArgs('meanSsim', a, b, count, height, width, channels, opts);
  checkMinSize('meanSsim', height, width);
  const size = height * width * channels;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const at = i * size;
    sum += ssimUnchecked(a.subarray(at, at + size), b.subarray(at, at + size), height, width, channels, dataRange);
  }
  return sum / count;
}

function ssimUnchecked(
  a: Float32Array,
  b: Float32Array,
  height: number,
  width: number,
  channels: number,
  dataRange: number,
): number {
  const c1 = (SSIM_K1 * dataRange) ** 2;
  const c2 = (SSIM_K2 * dataRange) ** 2;
  const plane = height * width;
  const x = new Float64Array(plane);
  const y = new Float64Array(plane);
  const products = new Float64Array(plane);
  const scratch = new Float64Array(plane);
  const ux = new Float64Array(plane);
  const uy = new Float64Array(plane);
  const uxx = new Float64Array(plane);
  const uyy = new Float64Array(plane);
  const uxy = new Float64Array(plane);
  const filter = new GaussianFilter(height, width);

  let total = 0;
  for (let ch = 0; ch < channels; ch++) {
    for (let p = 0; p < plane; p++) {
      x[p] = a[p * channels + ch];
      y[p] = b[p * channels + ch];
    }
    filter.apply(x, ux, scratch);
    filter.apply(y, uy, scratch);
    for (let p = 0; p < plane; p++) products[p] = x[p] * x[p];
    filter.apply(products, uxx, scratch);
    for (let p = 0; p < plane; p++) products[p] = y[p] * y[p];
    filter.apply(products, uyy, scratch);
    for (let p = 0; p < plane; p++) products[p] = x[p] * y[p];
    filter.apply(products, uxy, scratch);

    // Same operations, in the same order, as skimage (population covariance: cov_norm = 1).
    let sum = 0;
    for (let row = SSIM_RADIUS; row < height - SSIM_RADIUS; row++) {
      for (let col = SSIM_RADIUS; col < width - SSIM_RADIUS; col++) {
        const p = row * width + col;
        const mx = ux[p];
        const my = uy[p];
        const vx = uxx[p] - mx * mx;
        const vy = uyy[p] - my * my;
        const vxy = uxy[p] - mx * my;
        const a1 = 2 * mx * my + c1;
        const a2 = 2 * vxy + c2;
        const b1 = mx * mx + my * my + c1;
        const b2 = vx + vy + c2;
        sum += (a1 * a2) / (b1 * b2);
      }
    }
    total += sum / ((height - 2 * SSIM_RADIUS) * (width - 2 * SSIM_RADIUS));
  }
  return total / channels;
}

/**
 * scipy.ndimage.gaussian_filter(sigma=1.5, truncate=3.5, mode='reflect') on one H×W plane: a 1-D
 * correlation along axis 0 (rows), then along axis 1, with 'reflect' (d c b a | a b c d | d c b a)
 * borders resolved through precomputed index tables. (The mean SSIM crops the window radius, so
 * the border mode never reaches it; the maps still equal scipy's everywhere.)
 */
class GaussianFilter {
  private readonly rowIndex: Int32Array;
  private readonly colIndex: Int32Array;

  constructor(
    private readonly height: number,
    private readonly width: number,
  ) {
    this.rowIndex = reflectIndices(height);
    this.colIndex = reflectIndices(width);
  }

  /** Filters `input` into `output`; `scratch` holds the intermediate result. All H×W. */
  apply(input: Float64Array, output: Float64Array, scratch: Float64Array): void {
    const { height, width, rowIndex, colIndex } = this;
    for (let row = 0; row < height; row++) {
      const out = row * width;
      for (let col = 0; col < width; col++) scratch[out + col] = 0;
      for (let t = 0; t < SSIM_WIN_SIZE; t++) {
        const w = SSIM_KERNEL[t];
        const src = rowIndex[row + t] * width;
        for (let col = 0; col < width; col++) scratch[out + col] += w * input[src + col];
      }
    }
    for (let row = 0; row < height; row++) {
      const line = row * width;
      for (let col = 0; col < width; col++) {
        let acc = 0;
        for (let t = 0; t < SSIM_WIN_SIZE; t++) acc += SSIM_KERNEL[t] * scratch[line + colIndex[col + t]];
        output[line + col] = acc;
      }
    }
  }
}

/** For padded position i (0 <= i < n + 2·radius), the source index under scipy's 'reflect' mode. */
function reflectIndices(n: number): Int32Array {
  const table = new Int32Array(n + 2 * SSIM_RADIUS);
  const period = 2 * n;
  for (let i = 0; i < table.length; i++) {
    const m = (((i - SSIM_RADIUS) % period) + period) % period;
    table[i] = m < n ? m : period - 1 - m;
  }
  return table;
}

function checkMinSize(fn: string, height: number, width: number): void {
  if (height < SSIM_WIN_SIZE || width < SSIM_WIN_SIZE) {
    throw new AekitError(
      'BAD_ARGUMENT',
      `expected images at least ${SSIM_WIN_SIZE}x${SSIM_WIN_SIZE} (the Gaussian window), found ${height}x${width}`,
      { where: `${fn}(height, width)` },
    );
  }
}

/**
 * Validates the arguments shared by the image metrics and returns the data range.
 * Internal to src/eval/metrics (not re-exported from the package).
 *
 * @internal
 */
export function checkImageArgs(
  fn: string,
  a: Float32Array,
  b: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: number,
  opts: ImageMetricOptions,
): number {
  for (const [name, value] of [
    ['count', count],
    ['height', height],
    ['width', width],
    ['channels', channels],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new AekitError('BAD_ARGUMENT', `expected a positive integer, found ${value}`, { where: `${fn}(${name})` });
    }
  }
  const expected = count * height * width * channels;
  for (const [name, image] of [
    ['a', a],
    ['b', b],
  ] as const) {
    if (image.length !== expected) {
      const what = count === 1 ? 'an image' : `${count} images`;
      throw new AekitError(
        'BAD_ARGUMENT',
        `expected ${what} of ${height}x${width}x${channels}, i.e. ${expected} values, found ${image.length}`,
        { where: `${fn}(${name})` },
      );
    }
    for (let i = 0; i < image.length; i++) {
      if (!Number.isFinite(image[i])) {
        throw new AekitError('BAD_ARGUMENT', `expected finite pixels, found ${image[i]} at index ${i}`, {
          where: `${fn}(${name})`,
        });
      }
    }
  }
  const dataRange = opts.dataRange ?? DEFAULT_DATA_RANGE;
  if (!Number.isFinite(dataRange) || dataRange <= 0) {
    throw new AekitError('BAD_ARGUMENT', `expected a finite dataRange > 0, found ${dataRange}`, {
      where: `${fn}(opts.dataRange)`,
    });
  }
  return dataRange;
}
