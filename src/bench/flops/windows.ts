/**
 * Sliding windows: Conv (2 · output elements · Cin/group · kernel area, plus the bias),
 * ConvTranspose (2 · input elements · Cout/group · kernel area, plus the bias) and pooling (one
 * per output element per kernel position; global pools one per input element).
 */
import type { onnx } from 'onnx-proto';
import { intAttr, intsAttr, product, stringAttr } from './node';
import type { FlopRule, NodeContext, NodeResult } from './node';

/** Spatial output size of a sliding window (Conv, pooling). */
function windowOut(size: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, ceil: boolean): number {
  const span = (size + padBegin + padEnd - dilation * (kernel - 1) - 1) / stride;
  return (ceil ? Math.ceil(span) : Math.floor(span)) + 1;
}

interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
  autoPad: string;
}

function windowGeometry(attrs: Map<string, onnx.IAttributeProto>, kernel: number[]): WindowGeometry {
  const n = kernel.length;
  return {
    kernel,
    strides: intsAttr(attrs, 'strides') ?? new Array<number>(n).fill(1),
    dilations: intsAttr(attrs, 'dilations') ?? new Array<number>(n).fill(1),
    pads: intsAttr(attrs, 'pads') ?? new Array<number>(2 * n).fill(0),
    autoPad: stringAttr(attrs, 'auto_pad', 'NOTSET'),
  };
}

/** Output spatial dims of a Conv or pooling window over `spatial`. */
function slidingOutput(spatial: number[], g: WindowGeometry, ceil: boolean): number[] {
  return spatial.map((size, i) => {
    if (g.autoPad === 'SAME_UPPER' || g.autoPad === 'SAME_LOWER') return Math.ceil(size / g.strides[i]);
    if (g.autoPad === 'VALID') return windowOut(size, g.kernel[i], g.strides[i], g.dilations[i], 0, 0, ceil);
    return windowOut(size, g.kernel[i], g.strides[i], g.dilations[i], g.pads[i], g.pads[i + spatial.length], ceil);
  });
}

function pool({ attrs, shape }: NodeContext): NodeResult {
  const x = shape(0);
  const g = windowGeometry(attrs, intsAttr(attrs, 'kernel_shape') ?? []);
  const out = [x[0], x[1], ...slidingOutput(x.slice(2), g, intAttr(attrs, 'ceil_mode', 0) === 1)];
  return { shapes: [out], flops: product(out) * product(g.kernel) };
}

function globalPool({ shape }: NodeContext): NodeResult {
  const x = shape(0);
  return { shapes: [[x[0], x[1], ...x.slice(2).map(() => 1)]], flops: product(x) };
}

/** Rules of the sliding-window ops, by op type. */
export const WINDOW_RULES: Readonly<Record<string, FlopRule>> = {
  Conv: ({ attrs, shape, hasInput }) => {
    const [x, w] = [shape(0), shape(1)];
    const group = intAttr(attrs, 'group', 1);
    const g = windowGeometry(attrs, intsAttr(attrs, 'kernel_shape') ?? w.slice(2));
    const out = [x[0], w[0], ...slidingOutput(x.slice(2), g, false)];
    const perOutput = (x[1] / group) * product(g.kernel);
    return { shapes: [out], flops: 2 * product(out) * perOutput + (hasInput(2) ? product(out) : 0) };
  },
  ConvTranspose: ({ attrs, shape, hasInput }) => {
    const [x, w] = [shape(0), shape(1)];
    const group = intAttr(attrs, 'group', 1);
    const g = windowGeometry(attrs, intsAttr(attrs, 'kernel_shape') ?? w.slice(2));
    const spatial = x.slice(2);
    const outputPadding = intsAttr(attrs, 'output_padding') ?? new Array<number>(spatial.length).fill(0);
    const explicit = intsAttr(attrs, 'output_shape');
    const outSpatial =
      explicit ??
      spatial.map((size, i) => {
        if (g.autoPad === 'SAME_UPPER' || g.autoPad === 'SAME_LOWER') return size * g.strides[i];
        const full = g.strides[i] * (size - 1) + outputPadding[i] + (g.kernel[i] - 1) * g.dilations[i] + 1;
        return g.autoPad === 'VALID' ? full : full - g.pads[i] - g.pads[i + spatial.length];
      });
    const outChannels = w[1] * group;
    const out = [x[0], outChannels, ...outSpatial];
    const perInput = (outChannels / group) * product(g.kernel);
    return { shapes: [out], flops: 2 * product(x) * perInput + (hasInput(2) ? product(out) : 0) };
  },
  MaxPool: pool,
  AveragePool: pool,
  LpPool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
};
