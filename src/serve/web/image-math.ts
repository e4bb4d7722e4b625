/**
 * Numbers shared by the server and the browser module, so that both sides map values and draw
 * samples identically: value ranges to pixels, and the seeded normal sampler behind `sample`.
 * Pure code with no imports, because esbuild bundles this file into `dist/web/aekit-web.js`.
 */

/**
 * Pixel value ranges of aekit artifacts. Mirrors `VALUE_RANGES` in src/export/metadata.ts (which
 * imports node:fs and onnx-proto, so the browser bundle cannot use it); test/serve keeps them equal.
 */
export const PIXEL_VALUE_RANGES = Object.freeze({ unit: [0, 1], symmetric: [-1, 1] } as const);
/** See {@link PIXEL_VALUE_RANGES}. */
export type PixelValueRange = keyof typeof PIXEL_VALUE_RANGES;

/** Map a model value in `range` to [0, 1], clamped (what a PNG or a canvas can show). */
export function toUnitInterval(value: number, range: PixelValueRange): number {
  const [lo, hi] = PIXEL_VALUE_RANGES[range];
  const unit = (value - lo) / (hi - lo);
  return unit < 0 ? 0 : unit > 1 ? 1 : unit;
}

/** Map a model value in `range` to an 8-bit pixel: round(unit * 255), as PNGs and canvases store it. */
export function toPixelByte(value: number, range: PixelValueRange): number {
  return Math.round(toUnitInterval(value, range) * 255);
}

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
 * normals. Small and exactly reproducible in every JS engine, so `sample(n, seed)` gives the same
 * latents on the server and in a page.
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

/** Largest seed `sample` accepts (seeds are unsigned 32-bit integers). */
export const MAX_SEED = 0xffffffff;
