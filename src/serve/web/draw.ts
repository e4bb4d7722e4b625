/**
 * Images on canvases, both ways: a batch drawn as a grid at native resolution (scale it up with
 * CSS), and a canvas (a drawing, a dropped picture) read back as a model input.
 */
import type { ImageShape } from '../../artifact/metadata';
import type { ValueRange } from '../../data/types';
import { toPixelByte } from './image-math';
import { toModelInput } from './resample';
import type { ModelInputOptions } from './resample';
import type { ImageBatch } from './tensors';

/** Options of {@link drawImages}. */
export interface DrawOptions {
  /** Images per row (default: ceil(sqrt(n))). */
  columns?: number;
  /** Gap between images in pixels (default 0 for one image, 2 otherwise). */
  padding?: number;
  /** Gap colour, 0-255 grey (default 255). */
  background?: number;
}

/** RGBA bytes (height x width x 4) of image `index` of a batch, with the artifact's value mapping. */
export function imageRgba(images: ImageBatch, index = 0): Uint8ClampedArray<ArrayBuffer> {
  const [, channels, height, width] = images.shape;
  const plane = height * width;
  const base = index * channels * plane;
  const rgba = new Uint8ClampedArray(new ArrayBuffer(plane * 4));
  for (let p = 0; p < plane; p++) {
    const r = toPixelByte(images.data[base + p], images.valueRange);
    rgba[p * 4] = r;
    rgba[p * 4 + 1] = channels >= 3 ? toPixelByte(images.data[base + plane + p], images.valueRange) : r;
    rgba[p * 4 + 2] = channels >= 3 ? toPixelByte(images.data[base + 2 * plane + p], images.valueRange) : r;
    rgba[p * 4 + 3] = 255;
  }
  return rgba;
}

type Context2d = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

function context(canvas: HTMLCanvasElement | OffscreenCanvas, willReadFrequently = false): Context2d {
  const ctx = canvas.getContext('2d', { willReadFrequently }) as Context2d | null;
  if (!ctx) throw new Error('aekit-web: the canvas has no 2d context');
  return ctx;
}

/**
 * Draw a batch as a grid at native resolution (one canvas pixel per image pixel; scale it up
 * with CSS `width` and `image-rendering: pixelated`). Resizes the canvas to fit.
 */
export function drawImages(canvas: HTMLCanvasElement | OffscreenCanvas, images: ImageBatch, options: DrawOptions = {}): void {
  const [count, , height, width] = images.shape;
  const columns = Math.max(1, options.columns ?? Math.ceil(Math.sqrt(count)));
  const rows = Math.ceil(count / columns);
  const padding = options.padding ?? (count === 1 ? 0 : 2);
  canvas.width = columns * width + (columns - 1) * padding;
  canvas.height = rows * height + (rows - 1) * padding;
  const ctx = context(canvas);
  const bg = options.background ?? 255;
  ctx.fillStyle = `rgb(${bg}, ${bg}, ${bg})`;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let n = 0; n < count; n++) {
    const image = new ImageData(imageRgba(images, n), width, height);
    ctx.putImageData(image, (n % columns) * (width + padding), Math.floor(n / columns) * (height + padding));
  }
}

/**
 * Read a canvas (a drawing pad, a picture drawn onto it) as one model input of `shape` in
 * `valueRange` (see `toModelInput` for `fit` and `invert`).
 */
export function canvasToModelInput(
  canvas: HTMLCanvasElement | OffscreenCanvas,
  shape: ImageShape,
  valueRange: ValueRange,
  options: ModelInputOptions = {},
): { batch: ImageBatch; inverted: boolean } {
  const pixels = context(canvas, true).getImageData(0, 0, canvas.width, canvas.height);
  return toModelInput(pixels, shape, valueRange, options);
}
