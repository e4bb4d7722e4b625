/**
 * Which integer inputs of a graph are indices, and into how many entries: token ids that pick rows
 * of an embedding table, positions, class numbers for OneHot. onnxruntime refuses an index out of
 * range ("indices element out of data bounds"), so the benchmark must draw them below the bound.
 */
import type { onnx } from 'onnx-proto';
import { int64ToNumber } from '../export/onnx-graph';

/** Ops that carry an integer input's values on unchanged (as their first input), reshaped or retyped. */
const PASS_THROUGH = new Set(['Cast', 'Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Expand', 'Transpose', 'Tile']);

/** Ops whose input 1 indexes input 0 along the `axis` attribute (default 0). */
const GATHERS = new Set(['Gather', 'GatherElements']);

function intAttribute(node: onnx.INodeProto, name: string, fallback: number): number {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  return a && a.i !== undefined && a.i !== null ? int64ToNumber(a.i) : fallback;
}

/** The one value of a scalar (or 1-element) integer or float constant tensor, if it is one. */
function scalarValue(t: onnx.ITensorProto): number | undefined {
  if ((t.dims ?? []).reduce((a, d) => a * int64ToNumber(d), 1) !== 1) return undefined;
  if (t.int64Data?.length) return int64ToNumber(t.int64Data[0]);
  if (t.int32Data?.length) return t.int32Data[0];
  if (t.floatData?.length) return t.floatData[0];
  const raw = t.rawData;
  if (!raw || raw.length === 0) return undefined;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.length === 8) return Number(view.getBigInt64(0, true));
  if (raw.length === 4) return t.dataType === 1 ? view.getFloat32(0, true) : view.getInt32(0, true);
  return undefined;
}

/**
 * For each graph input that reaches (through {@link PASS_THROUGH} ops) the indices of a Gather or
 * GatherElements over a constant tensor, or the indices of a OneHot with a constant depth: the
 * number of entries it may index (the smallest, when it indexes several). Inputs not found here
 * index nothing the graph says the size of.
 */
export function indexBounds(graph: onnx.IGraphProto): Map<string, number> {
  const shapes = new Map<string, number[]>();
  const scalars = new Map<string, number>();
  const remember = (name: string, t: onnx.ITensorProto) => {
    shapes.set(name, (t.dims ?? []).map((d) => int64ToNumber(d)));
    const v = scalarValue(t);
    if (v !== undefined) scalars.set(name, v);
  };
  for (const t of graph.initializer ?? []) remember(t.name ?? '', t);
  for (const node of graph.node ?? []) {
    const value = node.opType === 'Constant' ? (node.attribute ?? []).find((a) => a.name === 'value')?.t : undefined;
    if (value) remember(node.output?.[0] ?? '', value);
  }
  const consumers = new Map<string, { node: onnx.INodeProto; slot: number }[]>();
  for (const node of graph.node ?? []) {
    (node.input ?? []).forEach((name, slot) => {
      if (!consumers.has(name)) consumers.set(name, []);
      consumers.get(name)!.push({ node, slot });
    });
  }

  const bounds = new Map<string, number>();
  for (const input of graph.input ?? []) {
    const name = input.name ?? '';
    if (shapes.has(name)) continue;
    let bound = Infinity;
    const seen = new Set<string>();
    const queue = [name];
    while (queue.length > 0) {
      const current = queue.pop()!;
      if (seen.has(current)) continue;
      seen.add(current);
      for (const { node, slot } of consumers.get(current) ?? []) {
        const op = node.opType ?? '';
        if (PASS_THROUGH.has(op) && slot === 0) queue.push(...(node.output ?? []));
        if (GATHERS.has(op) && slot === 1) {
          const data = shapes.get(node.input?.[0] ?? '');
          if (data && data.length > 0) {
            const axis = intAttribute(node, 'axis', 0);
            bound = Math.min(bound, data[axis < 0 ? axis + data.length : axis]);
          }
        }
        if (op === 'OneHot' && slot === 0) {
          const depth = scalars.get(node.input?.[1] ?? '');
          if (depth !== undefined) bound = Math.min(bound, depth);
        }
      }
    }
    if (Number.isFinite(bound) && bound > 0) bounds.set(name, bound);
  }
  return bounds;
}
