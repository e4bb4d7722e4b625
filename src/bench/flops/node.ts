/**
 * What every FLOP rule works with: one node's attributes and the shapes (and small constant
 * values) of its inputs, and what it gives back: its output shapes and FLOPs.
 */
import type { onnx } from 'onnx-proto';
import { int64ToNumber } from '../../export/onnx-graph';

/** A concrete tensor shape. */
export type Shape = number[];

/** What one node produces and costs. */
export interface NodeResult {
  shapes: Shape[];
  flops: number;
}

/** One node as a rule sees it. `shape(i)` throws when input i's shape is unknown. */
export interface NodeContext {
  node: onnx.INodeProto;
  op: string;
  attrs: Map<string, onnx.IAttributeProto>;
  shape(i: number): Shape;
  /** Values of input i when it is a small constant (shapes, axes, scales). */
  constant(i: number): number[] | undefined;
  /** Whether optional input i is given. */
  hasInput(i: number): boolean;
}

/** The shape and FLOP rule of an op type. */
export type FlopRule = (ctx: NodeContext) => NodeResult;

/** Product of the dimensions (element count). */
export const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Numpy broadcasting of shapes (right-aligned). */
export function broadcast(shapes: Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    let dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d !== 1) {
        if (dim !== 1 && dim !== d) throw new Error(`shapes [${shapes.map((x) => x.join(',')).join('] [')}] do not broadcast`);
        dim = d;
      }
    }
    out.push(dim);
  }
  return out;
}

/** A node's attributes by name. */
export function attributes(node: onnx.INodeProto): Map<string, onnx.IAttributeProto> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
}

/** An integer attribute, or `fallback` when the node does not set it. */
export function intAttr(attrs: Map<string, onnx.IAttributeProto>, name: string, fallback: number): number {
  const a = attrs.get(name);
  return a && a.i !== undefined && a.i !== null ? int64ToNumber(a.i) : fallback;
}

/** An integer-list attribute, or undefined when the node does not set it. */
export function intsAttr(attrs: Map<string, onnx.IAttributeProto>, name: string): number[] | undefined {
  const a = attrs.get(name);
  return a && a.ints && a.ints.length > 0 ? a.ints.map((v) => int64ToNumber(v)) : undefined;
}

/** A string attribute, or `fallback` when the node does not set it. */
export function stringAttr(attrs: Map<string, onnx.IAttributeProto>, name: string, fallback: string): string {
  const a = attrs.get(name);
  return a && a.s && a.s.length > 0 ? new TextDecoder().decode(a.s) : fallback;
}

/** A possibly negative axis as an index into a shape of `rank`. */
export function axisIndex(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
