/**
 * Drawing decoder inputs from an artifact's prior, identically on the server and in a page: a
 * small seeded generator (mulberry32 + Box-Muller) that every JS engine reproduces exactly, so
 * `sample(n, seed)` gives the same latents in Node and in the browser.
 *
 * Pure code (no imports but the artifact description): the browser module bundles it.
 */
import { AekitError } from '../core/errors';
import type { ArtifactInfo } from './info';

/** Largest seed `sample` accepts (seeds are unsigned 32-bit integers). */
export const MAX_SEED = 0xffffffff;

/** mulberry32 (Tommy Ettinger, public domain): uniforms in [0, 1) from a 32-bit state, period 2^32. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` standard-normal samples from a 32-bit seed: mulberry32 for uniforms, Box-Muller for
 * normals. Small and exactly reproducible in every JS engine.
 */
export function normalSamples(count: number, seed: number): Float32Array {
  const uniform = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    // 1 - u is in (0, 1], so the log is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/** `count` samples uniform in [0, 1) from a 32-bit seed (mulberry32, as {@link normalSamples}). */
export function uniformSamples(count: number, seed: number): Float32Array {
  const uniform = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = uniform();
  return out;
}

/** Offset of the categorical stream's seed from the Gaussian one (the golden-ratio constant), so the two never share a state sequence. */
const CATEGORICAL_STREAM = 0x9e3779b9;

/**
 * `count` codes (row-major count x latentSize) drawn from the artifact's prior with `seed`:
 * N(0, I) for 'standard-normal'; for the categorical priors, N(0, I) for the Gaussian part (if any)
 * then each categorical variable as a one-hot group of a uniformly drawn class.
 *
 * @throws AekitError BAD_ARGUMENT when the artifact cannot be sampled (`info.whyNoSample`) or the seed is not a 32-bit unsigned integer.
 */
export function drawLatents(info: ArtifactInfo, count: number, seed: number): Float32Array {
  if (!info.canSample || !info.latentInput) throw new AekitError('BAD_ARGUMENT', `cannot sample this ${info.family} ${info.part}: ${info.whyNoSample ?? 'no code input'}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new AekitError('BAD_ARGUMENT', `seed must be a whole number in 0..${MAX_SEED}, got ${seed}`, { where: 'seed' });
  const size = info.latentInput.size;
  if (info.prior === 'standard-normal' || !info.categorical) return normalSamples(count * size, seed);
  const { variables, classes } = info.categorical;
  const gaussian = size - variables * classes;
  const normals = normalSamples(count * gaussian, seed);
  const picks = uniformSamples(count * variables, (seed + CATEGORICAL_STREAM) >>> 0);
  const out = new Float32Array(count * size);
  for (let r = 0; r < count; r++) {
    out.set(normals.subarray(r * gaussian, (r + 1) * gaussian), r * size);
    for (let v = 0; v < variables; v++) out[r * size + gaussian + v * classes + Math.min(classes - 1, Math.floor(picks[r * variables + v] * classes))] = 1;
  }
  return out;
}
