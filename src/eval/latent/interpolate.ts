/**
 * Walks between the codes of two images, decoded step by step: a PNG grid (one row per pair) and
 * an animated GIF (all pairs side by side, one frame per step).
 */
import { decodePng, imageGridPng } from '../../core/image-io';
import { AekitError } from '../../core/errors';
import type { LatentModel } from './artifacts';
import { framesToGif } from './gif';
import type { RgbaFrame } from './gif';

/**
 * 'linear' walks the straight line; 'slerp' the great circle between the two codes (its norm
 * stays typical for a Gaussian prior, where the line's midpoint is unusually close to the origin).
 */
export type InterpolationMethod = 'linear' | 'slerp';

/** Steps of an interpolation by default, both ends included. */
export const DEFAULT_INTERPOLATION_STEPS = 10;

/** Below this angle (radians) slerp falls back to the line, whose result is then the same to float precision. */
const SLERP_MIN_ANGLE = 1e-4;

/** Codes from `a` to `b` (each of length size) in `steps` steps, ends included: steps x size. */
export function interpolateCodes(a: ArrayLike<number>, b: ArrayLike<number>, steps: number, method: InterpolationMethod = 'linear'): Float32Array {
  if (a.length !== b.length) throw new AekitError('BAD_ARGUMENT', `codes of different sizes: ${a.length} and ${b.length}`);
  if (!Number.isInteger(steps) || steps < 2) throw new AekitError('BAD_ARGUMENT', `an interpolation needs at least 2 steps, got ${steps}`);
  const size = a.length;
  const out = new Float32Array(steps * size);
  let omega = 0;
  if (method === 'slerp') {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let j = 0; j < size; j++) {
      dot += a[j] * b[j];
      na += a[j] * a[j];
      nb += b[j] * b[j];
    }
    omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb || 1))));
  }
  for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    const [wa, wb] = omega > SLERP_MIN_ANGLE ? [Math.sin((1 - t) * omega) / Math.sin(omega), Math.sin(t * omega) / Math.sin(omega)] : [1 - t, t];
    for (let j = 0; j < size; j++) out[s * size + j] = wa * a[j] + wb * b[j];
  }
  return out;
}

/** Options of {@link interpolateImages}. */
export interface InterpolateOptions {
  steps?: number;
  method?: InterpolationMethod;
  /** Class of each image, for conditional models (a pair's walk keeps its first image's class). */
  labels?: ArrayLike<number>;
}

/**
 * Decode walks between pairs of images: `from[i]` to `to[i]` for each pair (NHWC in [0, 1], the
 * same count each). Returns pairs x steps images, pair-major (row i is pair i's walk).
 */
export async function interpolateImages(model: LatentModel, from: Float32Array, to: Float32Array, pairs: number, options: InterpolateOptions = {}): Promise<Float32Array> {
  const steps = options.steps ?? DEFAULT_INTERPOLATION_STEPS;
  const size = model.latentSize;
  const labels = options.labels ? Array.from(options.labels) : undefined;
  const codesA = await model.encode(from, pairs, labels);
  const codesB = await model.encode(to, pairs, labels);
  const walk = new Float32Array(pairs * steps * size);
  for (let p = 0; p < pairs; p++) {
    walk.set(interpolateCodes(codesA.subarray(p * size, (p + 1) * size), codesB.subarray(p * size, (p + 1) * size), steps, options.method), p * steps * size);
  }
  const walkLabels = labels ? Int32Array.from({ length: pairs * steps }, (_, r) => labels[Math.floor(r / steps)]) : undefined;
  return model.decode(walk, pairs * steps, walkLabels);
}

/** Upscaling of GIF frames and PNG grids: 28x28 digits at 3x stay readable. */
export const LATENT_FIGURE_SCALE = 3;

/**
 * A GIF of interpolation walks (pairs x steps images, pair-major as {@link interpolateImages}
 * returns them): frame s shows step s of every pair side by side; it plays forth and back.
 */
export function interpolationGif(images: Float32Array, pairs: number, steps: number, shape: { height: number; width: number; channels: number }, delayMs?: number): Uint8Array {
  const per = shape.height * shape.width * shape.channels;
  const frames: RgbaFrame[] = [];
  for (let s = 0; s < steps; s++) {
    const frame = new Float32Array(pairs * per);
    for (let p = 0; p < pairs; p++) frame.set(images.subarray((p * steps + s) * per, (p * steps + s + 1) * per), p * per);
    const png = decodePng(imageGridPng(frame, pairs, shape.height, shape.width, shape.channels, { columns: pairs, scale: LATENT_FIGURE_SCALE }));
    frames.push({ width: png.width, height: png.height, rgba: png.rgba });
  }
  return framesToGif(frames, { pingPong: true, delayMs });
}
