/**
 * What a gradient rule of ./autodiff.ts is, and the helpers the rules share: undoing broadcasting
 * and reshaping a gradient back to its operand's shape.
 */
import type { onnx } from 'onnx-proto';
import type { TrainingGraph } from './graph';

/** Computes the gradients of a node's inputs from the gradients of its outputs. */
export type GradientRule = (g: TrainingGraph, node: onnx.INodeProto, dOutputs: (string | undefined)[], wanted: boolean[]) => (string | undefined)[];

/** Thrown for an operator on the differentiated path that has no gradient rule. */
export class NoGradientError extends Error {}

/** Sum `dy` over the axes along which `target` was broadcast, giving it `target`'s shape. */
export function unbroadcast(g: TrainingGraph, dy: string, target: readonly number[]): string {
  const shape = g.shape(dy);
  if (shape.length === target.length && shape.every((d, i) => d === target[i])) return dy;
  const offset = shape.length - target.length;
  const axes: number[] = [];
  shape.forEach((d, i) => {
    if (i < offset || (target[i - offset] === 1 && d !== 1)) axes.push(i);
  });
  let out = axes.length > 0 ? g.node('ReduceSum', [dy, g.ints(axes)], 'grad/unbroadcast', { keepdims: 1 }) : dy;
  if (offset > 0 || g.shape(out).length !== target.length) out = g.node('Reshape', [out, g.ints([...target])], 'grad/unbroadcast_shape');
  return out;
}

/** `x` reshaped to `shape` (itself when it has that shape already). */
export function reshapeTo(g: TrainingGraph, x: string, shape: readonly number[]): string {
  const current = g.shape(x);
  if (current.length === shape.length && current.every((d, i) => d === shape[i])) return x;
  return g.node('Reshape', [x, g.ints([...shape])], 'grad/reshape');
}
