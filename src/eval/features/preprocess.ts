/**
 * A feature network's declared preprocessing applied to a batch of images: gray -> RGB channel
 * replication, the resize to its input size, and its value range. Images arrive NCHW in [0, 1]
 * (what the data layer and, after a range conversion, every decoder give).
 */
import { AekitError } from '../../core/errors';
import type { FeatureExtraction, FeatureInputRange } from '../../artifact/metadata';
import { describeShape } from '../images';
import type { ImageShape } from '../images';
import { resizeBilinear } from './resize';

/** The bounds of each input range of a feature network: [0, 1] -> [low, high]. */
export const FEATURE_RANGE_BOUNDS: Readonly<Record<FeatureInputRange, readonly [number, number]>> = Object.freeze({
  unit: [0, 1],
  symmetric: [-1, 1],
  byte: [0, 255],
});

/** A feature network's input: what {@link prepareImages} produces for it. */
export interface FeatureInput {
  /** Channels the network takes (1 or 3). */
  channels: number;
  /** The fixed input size, when the network has one (required unless resize is 'graph'). */
  size?: { height: number; width: number };
  extraction: FeatureExtraction;
}

/**
 * Why images of `shape` cannot be fed to the network (undefined when they can): a channel count it
 * does not take (grayscale goes to an RGB network only with `grayToRgb`), or another size when it
 * does not resize.
 */
export function inputProblem(input: FeatureInput, shape: ImageShape): string | undefined {
  const { channels, size, extraction } = input;
  if (shape.channels !== channels && !(shape.channels === 1 && channels === 3 && extraction.grayToRgb)) {
    const hint = shape.channels === 1 && channels === 3 ? ' (it does not declare gray -> RGB replication: aekit.features.grayToRgb, or --gray-to-rgb)' : '';
    return `it takes ${channels}-channel images and the images have ${shape.channels}${hint}`;
  }
  if (extraction.resize === 'none' && size && (size.height !== shape.height || size.width !== shape.width)) {
    return `it takes ${size.height}x${size.width} images without resizing and the images are ${describeShape(shape)}`;
  }
  return undefined;
}

/** The height and width the network is fed images of `shape` at. */
export function fedSize(input: FeatureInput, shape: ImageShape): { height: number; width: number } {
  return input.extraction.resize === 'graph' || !input.size ? { height: shape.height, width: shape.width } : input.size;
}

/**
 * `count` images of `shape` (NCHW in [0, 1]) as the network's input: channels replicated, resized,
 * mapped to its range, in pytorch-fid's order (replicate, resize in [0, 1], then scale).
 * @throws AekitError BAD_ARGUMENT when the images cannot be fed (see {@link inputProblem}).
 */
export function prepareImages(input: FeatureInput, unitNchw: Float32Array, count: number, shape: ImageShape): Float32Array {
  const problem = inputProblem(input, shape);
  if (problem) throw new AekitError('BAD_ARGUMENT', problem, { where: 'feature network input' });
  const plane = shape.height * shape.width;
  let data = unitNchw;
  if (shape.channels !== input.channels) {
    data = new Float32Array(count * input.channels * plane);
    for (let n = 0; n < count; n++) {
      const source = unitNchw.subarray(n * plane, (n + 1) * plane);
      for (let c = 0; c < input.channels; c++) data.set(source, (n * input.channels + c) * plane);
    }
  }
  const { height, width } = fedSize(input, shape);
  data = resizeBilinear(data, count * input.channels, shape.height, shape.width, height, width);
  const [low, high] = FEATURE_RANGE_BOUNDS[input.extraction.range];
  if (low === 0 && high === 1) return data;
  const out = data === unitNchw ? new Float32Array(data.length) : data;
  const scale = high - low;
  for (let i = 0; i < data.length; i++) out[i] = data[i] * scale + low;
  return out;
}
