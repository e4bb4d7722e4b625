/**
 * The demo's two image strips besides the map: the interpolation between two codes A and B (a
 * strip, and an animation of the main output along it), and the grid of samples drawn with a
 * seed, so that a seed reproduces a grid (the server's `/sample` draws the same codes).
 */
import { MAX_SEED } from '../../../artifact/prior';
import { drawImages } from '../draw';
import type { ImageBatch } from '../tensors';
import { cellAt, h } from './ui';

/** Frames of the interpolation strip, A and B included. */
export const STRIP_FRAMES = 8;
/** Samples in the grid (4 x 4). */
export const SAMPLE_COUNT = 16;
/** One A -> B -> A cycle of the animation, in ms. */
const CYCLE_MS = 4000;

/** `frames` codes evenly spaced on the segment from `a` to `b`, row-major. */
export function lerpCodes(a: ArrayLike<number>, b: ArrayLike<number>, frames = STRIP_FRAMES): Float32Array {
  const size = a.length;
  const out = new Float32Array(frames * size);
  for (let f = 0; f < frames; f++) {
    const t = frames === 1 ? 0 : f / (frames - 1);
    for (let i = 0; i < size; i++) out[f * size + i] = (1 - t) * a[i] + t * b[i];
  }
  return out;
}

/** The interpolation strip, wired. */
export interface Strip {
  /** Decode and draw the frames between `a` and `b`. */
  render(a: Float32Array, b: Float32Array, decode: (codes: Float32Array) => Promise<ImageBatch>): Promise<Float32Array>;
  /** Stop the animation (when the user takes over the code). */
  stop(): void;
}

/** Wire the strip: buttons set A and B from the current code; a click on a frame calls `select`, each frame of the animation `animate`. */
export function wireStrip(
  canvas: HTMLCanvasElement,
  tools: HTMLElement,
  cell: { width: number; height: number },
  actions: { setA(): void; setB(): void; select(z: Float32Array): void; animate(z: Float32Array): void; endpoints(): [Float32Array, Float32Array] },
): Strip {
  let codes: Float32Array = new Float32Array(0);
  const setA = h('button', { type: 'button', id: 'set-a', text: 'A ← current' });
  const setB = h('button', { type: 'button', id: 'set-b', text: 'B ← current' });
  const play = h('button', { type: 'button', id: 'play', 'aria-pressed': 'false', text: 'play A ↔ B' });
  tools.append(setA, setB, play);
  setA.addEventListener('click', () => actions.setA());
  setB.addEventListener('click', () => actions.setB());
  canvas.addEventListener('click', (e) => {
    const size = codes.length / STRIP_FRAMES;
    const index = cellAt(e, canvas, cell, STRIP_FRAMES, STRIP_FRAMES, 2);
    if (index !== undefined && size > 0) actions.select(codes.slice(index * size, (index + 1) * size));
  });

  let frame: number | undefined;
  const stop = () => {
    if (frame !== undefined) cancelAnimationFrame(frame);
    frame = undefined;
    play.setAttribute('aria-pressed', 'false');
  };
  play.addEventListener('click', () => {
    if (frame !== undefined) return stop();
    play.setAttribute('aria-pressed', 'true');
    const start = performance.now();
    const tick = (now: number) => {
      const [a, b] = actions.endpoints();
      // A smooth back-and-forth: t goes 0 -> 1 -> 0 along a cosine.
      const t = (1 - Math.cos((2 * Math.PI * (now - start)) / CYCLE_MS)) / 2;
      const z = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) z[i] = (1 - t) * a[i] + t * b[i];
      actions.animate(z);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
  });
  return {
    async render(a, b, decode) {
      codes = lerpCodes(a, b);
      drawImages(canvas, await decode(codes), { columns: STRIP_FRAMES, padding: 2 });
      return codes;
    },
    stop,
  };
}

/** The samples grid, wired. */
export interface SampleGrid {
  /** The seed in the field. */
  seed(): number;
  /** Draw a sampled batch (its codes are what a click selects). */
  show(images: ImageBatch, z: Float32Array): void;
}

/** Wire the seed field and the grid; `sample(seed)` runs on "sample", Enter in the field and "new seed". */
export function wireSamples(
  canvas: HTMLCanvasElement,
  tools: HTMLElement,
  cell: { width: number; height: number },
  initialSeed: number,
  actions: { sample(seed: number): void; select(z: Float32Array): void },
): SampleGrid {
  let codes: Float32Array = new Float32Array(0);
  const seed = h('input', { type: 'number', id: 'seed', min: 0, max: MAX_SEED, step: 1, value: initialSeed, inputmode: 'numeric' });
  const sample = h('button', { type: 'button', id: 'sample', text: 'sample' });
  const reseed = h('button', { type: 'button', id: 'reseed', text: 'new seed' });
  tools.append(h('label', {}, 'seed ', seed), sample, reseed);
  const valid = () => {
    const v = Number(seed.value);
    const ok = seed.value !== '' && Number.isInteger(v) && v >= 0 && v <= MAX_SEED;
    seed.setCustomValidity(ok ? '' : `a whole number from 0 to ${MAX_SEED}`);
    if (!ok) seed.reportValidity();
    return ok;
  };
  sample.addEventListener('click', () => valid() && actions.sample(Number(seed.value)));
  seed.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && valid()) actions.sample(Number(seed.value));
  });
  reseed.addEventListener('click', () => {
    seed.value = String(Math.floor(Math.random() * MAX_SEED));
    actions.sample(Number(seed.value));
  });
  const columns = Math.ceil(Math.sqrt(SAMPLE_COUNT));
  canvas.addEventListener('click', (e) => {
    const size = codes.length / SAMPLE_COUNT;
    const index = cellAt(e, canvas, cell, columns, SAMPLE_COUNT, 2);
    if (index !== undefined && size > 0) actions.select(codes.slice(index * size, (index + 1) * size));
  });
  return {
    seed: () => Number(seed.value),
    show(images, z) {
      codes = z;
      drawImages(canvas, images, { columns, padding: 2 });
    },
  };
}
