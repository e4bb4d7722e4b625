/**
 * A picture (RGBA bytes, any size: a drawing, a dropped photo) -> a model input: grey or RGB,
 * resized to the model's image shape by area averaging, optionally inverted and, for digits,
 * framed as MNIST was (the ink's bounding box scaled into a 20x20 box, centred by its centre of
 * mass in 28x28; LeCun et al., "The MNIST database"). Pure code, so every browser gives the same
 * pixels for the same drawing and tests can check it in Node.
 */
import type { ImageShape } from '../../artifact/metadata';
import type { ValueRange } from '../../data/types';
import { fromUnitInterval } from './image-math';
import type { ImageBatch } from './tensors';

/** RGBA bytes, row-major, as `getImageData` gives them. */
export interface RgbaImage {
  data: ArrayLike<number>;
  width: number;
  height: number;
}

/** How a picture is fitted to the model's frame. */
export const IMAGE_FITS = Object.freeze(['stretch', 'contain', 'cover', 'digit'] as const);
/** See {@link IMAGE_FITS}: `digit` frames the ink as MNIST did; the others as CSS `object-fit` (stretch = fill). */
export type ImageFit = (typeof IMAGE_FITS)[number];

/** Options of {@link toModelInput}. */
export interface ModelInputOptions {
  /** Default 'contain'. */
  fit?: ImageFit;
  /**
   * Turn light-on-dark around. 'auto' (default): for grey models, when the picture's border is
   * mostly light (a dark digit on white paper; MNIST-style models expect light ink on black).
   */
  invert?: boolean | 'auto';
}

/**
 * Side of MNIST's digit box over the frame's side: digits were scaled into 20x20 and centred in
 * 28x28 (the MNIST page).
 */
export const DIGIT_BOX = 20 / 28;
/** Ink threshold of the `digit` fit's bounding box, in [0, 1]: below it a pixel is background. */
const INK = 0.1;
/** Mean border brightness past which 'auto' inverts a grey picture. */
const LIGHT_BORDER = 0.5;

/** Rec. 601 luma weights: the grey value of an RGB pixel (what `convert('L')` does in PIL). */
const LUMA = [0.299, 0.587, 0.114] as const;

/** Planes of [0, 1] values (alpha composited over black): one grey plane, or R, G, B. */
function planesOf(image: RgbaImage, channels: number): Float32Array[] {
  const n = image.width * image.height;
  const planes = Array.from({ length: channels }, () => new Float32Array(n));
  const d = image.data;
  for (let p = 0; p < n; p++) {
    const alpha = d[p * 4 + 3] / 255;
    const [r, g, b] = [d[p * 4] / 255, d[p * 4 + 1] / 255, d[p * 4 + 2] / 255];
    if (channels === 1) planes[0][p] = (LUMA[0] * r + LUMA[1] * g + LUMA[2] * b) * alpha;
    else [r, g, b].forEach((v, c) => (planes[c][p] = v * alpha));
  }
  return planes;
}

/** Mean of the outermost pixels of a plane. */
function borderMean(plane: Float32Array, width: number, height: number): number {
  let sum = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y === 0 || x === 0 || y === height - 1 || x === width - 1) {
        sum += plane[y * width + x];
        count++;
      }
    }
  }
  return count === 0 ? 0 : sum / count;
}

/** Source indices and weights of each of `dstLen` pixels covering source span [start, start + len) (outside the source counts as 0). */
function axisWeights(start: number, len: number, dstLen: number, srcSize: number): { index: number[]; weight: number[] }[] {
  const step = len / dstLen;
  return Array.from({ length: dstLen }, (_, d) => {
    const a = start + d * step;
    const b = a + step;
    const index: number[] = [];
    const weight: number[] = [];
    for (let i = Math.floor(a); i < Math.ceil(b); i++) {
      const overlap = Math.min(b, i + 1) - Math.max(a, i);
      if (i >= 0 && i < srcSize && overlap > 0) {
        index.push(i);
        weight.push(overlap / step);
      }
    }
    return { index, weight };
  });
}

/** A source rectangle and where it lands in the frame. */
interface Placement {
  src: { x: number; y: number; w: number; h: number };
  dst: { x: number; y: number; w: number; h: number };
}

/** Area-average `plane`'s `src` rectangle into `dst` of an `outW` x `outH` frame (zeros elsewhere). */
function resample(plane: Float32Array, width: number, height: number, place: Placement, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  const xs = axisWeights(place.src.x, place.src.w, place.dst.w, width);
  const ys = axisWeights(place.src.y, place.src.h, place.dst.h, height);
  for (let dy = 0; dy < place.dst.h; dy++) {
    const ty = place.dst.y + dy;
    if (ty < 0 || ty >= outH) continue;
    for (let dx = 0; dx < place.dst.w; dx++) {
      const tx = place.dst.x + dx;
      if (tx < 0 || tx >= outW) continue;
      let sum = 0;
      const { index: yi, weight: yw } = ys[dy];
      const { index: xi, weight: xw } = xs[dx];
      for (let j = 0; j < yi.length; j++) {
        const row = yi[j] * width;
        for (let i = 0; i < xi.length; i++) sum += yw[j] * xw[i] * plane[row + xi[i]];
      }
      out[ty * outW + tx] = sum;
    }
  }
  return out;
}

/** Where the picture goes for the object-fit style fits. */
function fitPlacement(fit: Exclude<ImageFit, 'digit'>, width: number, height: number, outW: number, outH: number): Placement {
  if (fit === 'stretch') return { src: { x: 0, y: 0, w: width, h: height }, dst: { x: 0, y: 0, w: outW, h: outH } };
  if (fit === 'cover') {
    // Crop the source to the frame's aspect, centred.
    const scale = Math.max(outW / width, outH / height);
    const [w, h] = [outW / scale, outH / scale];
    return { src: { x: (width - w) / 2, y: (height - h) / 2, w, h }, dst: { x: 0, y: 0, w: outW, h: outH } };
  }
  const scale = Math.min(outW / width, outH / height);
  const [w, h] = [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
  return { src: { x: 0, y: 0, w: width, h: height }, dst: { x: Math.floor((outW - w) / 2), y: Math.floor((outH - h) / 2), w, h } };
}

/** The ink's bounding box in the brightest plane sum, or undefined for a blank picture. */
function inkBox(planes: Float32Array[], width: number, height: number): Placement['src'] | undefined {
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = planes.reduce((m, p) => Math.max(m, p[y * width + x]), 0);
      if (v > INK) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  return x1 < 0 ? undefined : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/** MNIST framing: the ink box scaled into the digit box, then shifted so its centre of mass is the frame's centre. */
function digitPlacement(planes: Float32Array[], width: number, height: number, outW: number, outH: number): Placement {
  const box = inkBox(planes, width, height);
  if (!box) return fitPlacement('contain', width, height, outW, outH);
  const scale = (DIGIT_BOX * Math.min(outW, outH)) / Math.max(box.w, box.h);
  const [w, h] = [Math.max(1, Math.round(box.w * scale)), Math.max(1, Math.round(box.h * scale))];
  const tile = resample(planes[0], width, height, { src: box, dst: { x: 0, y: 0, w, h } }, w, h);
  let [mass, mx, my] = [0, 0, 0];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = tile[y * w + x];
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const [cx, cy] = mass > 0 ? [mx / mass, my / mass] : [w / 2, h / 2];
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), Math.max(0, hi));
  return { src: box, dst: { x: clamp(Math.round(outW / 2 - cx), outW - w), y: clamp(Math.round(outH / 2 - cy), outH - h), w, h } };
}

/**
 * A model input from a picture: one NCHW image of `shape` in `valueRange`, and whether it was
 * inverted. Grey models get the luma of the picture, RGB models its colours.
 * @throws Error for a model with other than 1 or 3 channels, or an empty picture.
 */
export function toModelInput(image: RgbaImage, shape: ImageShape, valueRange: ValueRange, options: ModelInputOptions = {}): { batch: ImageBatch; inverted: boolean } {
  const { channels, height: outH, width: outW } = shape;
  if (channels !== 1 && channels !== 3) throw new Error(`aekit-web: pictures become 1 (grey) or 3 (RGB) channels, but the model takes ${channels}`);
  if (image.width < 1 || image.height < 1 || image.data.length < image.width * image.height * 4) {
    throw new Error(`aekit-web: the picture is ${image.width}x${image.height} with ${image.data.length} bytes, expected width*height*4 RGBA bytes`);
  }
  const planes = planesOf(image, channels);
  const invert = options.invert ?? 'auto';
  const inverted = invert === 'auto' ? channels === 1 && borderMean(planes[0], image.width, image.height) > LIGHT_BORDER : invert;
  if (inverted) for (const plane of planes) for (let i = 0; i < plane.length; i++) plane[i] = 1 - plane[i];
  const fit = options.fit ?? 'contain';
  const place = fit === 'digit' ? digitPlacement(planes, image.width, image.height, outW, outH) : fitPlacement(fit, image.width, image.height, outW, outH);
  const data = new Float32Array(channels * outH * outW);
  planes.forEach((plane, c) => {
    const out = resample(plane, image.width, image.height, place, outW, outH);
    for (let i = 0; i < out.length; i++) data[c * outH * outW + i] = fromUnitInterval(out[i], valueRange);
  });
  return { batch: { data, shape: [1, channels, outH, outW], valueRange }, inverted };
}
