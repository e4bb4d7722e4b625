/**
 * Image layout and value-range conversions between the data layer (NHWC in [0, 1]) and artifacts
 * (NCHW in the artifact's value range). Conversions that have nothing to do return their input,
 * so the common MNIST case (one channel, 'unit' range) copies nothing.
 */
import { VALUE_RANGES } from '../data/types';
import type { ValueRange } from '../data/types';

/** Image dimensions of a batch. */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/** NHWC -> NCHW; the same array for one channel, where both layouts coincide. */
export function nhwcToNchw(data: Float32Array, count: number, shape: ImageShape): Float32Array {
  const { height, width, channels } = shape;
  if (channels === 1) return data;
  const plane = height * width;
  const out = new Float32Array(count * plane * channels);
  for (let n = 0; n < count; n++) {
    const base = n * plane * channels;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < channels; c++) out[base + c * plane + p] = data[base + p * channels + c];
    }
  }
  return out;
}

/** NCHW -> NHWC; the same array for one channel. */
export function nchwToNhwc(data: Float32Array, count: number, shape: ImageShape): Float32Array {
  const { height, width, channels } = shape;
  if (channels === 1) return data;
  const plane = height * width;
  const out = new Float32Array(count * plane * channels);
  for (let n = 0; n < count; n++) {
    const base = n * plane * channels;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < channels; c++) out[base + p * channels + c] = data[base + c * plane + p];
    }
  }
  return out;
}

/** Map values from one range to another (affine); the same array when the ranges are equal. */
export function convertRange(data: Float32Array, from: ValueRange, to: ValueRange): Float32Array {
  if (from === to) return data;
  const [aMin, aMax] = VALUE_RANGES[from];
  const [bMin, bMax] = VALUE_RANGES[to];
  const scale = (bMax - bMin) / (aMax - aMin);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] - aMin) * scale + bMin;
  return out;
}

/** Data-layer images (NHWC, [0, 1]) -> an artifact's image input (NCHW, its range). */
export function toArtifactImages(unitNhwc: Float32Array, count: number, shape: ImageShape, range: ValueRange): Float32Array {
  return convertRange(nhwcToNchw(unitNhwc, count, shape), 'unit', range);
}

/** An artifact's image output (NCHW, its range) -> data-layer images (NHWC, [0, 1]). */
export function fromArtifactImages(nchw: Float32Array, count: number, shape: ImageShape, range: ValueRange): Float32Array {
  return nchwToNhwc(convertRange(nchw, range, 'unit'), count, shape);
}

/** `HxWxC`, as messages name an image shape. */
export function describeShape(shape: ImageShape): string {
  return `${shape.height}x${shape.width}x${shape.channels}`;
}
