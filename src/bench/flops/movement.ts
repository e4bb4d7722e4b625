/**
 * Ops that move, select or relabel data and compute nothing (0 FLOPs): their shape rules only, so
 * that the shapes reach the ops downstream that do compute.
 */
import { axisIndex, intAttr, intsAttr, product } from './node';
import type { FlopRule, NodeContext, NodeResult, Shape } from './node';

function resize({ op, shape, constant, hasInput }: NodeContext): NodeResult {
  const x = shape(0);
  const sizes = op === 'Resize' && hasInput(3) ? constant(3) : undefined;
  if (sizes && sizes.length === x.length) return { shapes: [sizes], flops: 0 };
  const scales = op === 'Resize' ? (hasInput(2) ? constant(2) : undefined) : constant(1);
  if (!scales || scales.length !== x.length) throw new Error('scales/sizes are not constants');
  return { shapes: [x.map((d, i) => Math.floor(d * scales[i]))], flops: 0 };
}

/** Rules of the data-movement ops, by op type. */
export const MOVEMENT_RULES: Readonly<Record<string, FlopRule>> = {
  Reshape: ({ attrs, shape, constant }) => {
    const x = shape(0);
    const target = constant(1);
    if (!target) throw new Error('shape input is not a constant');
    const allowZero = intAttr(attrs, 'allowzero', 0) === 1;
    const out = target.map((d, i) => (d === 0 && !allowZero ? x[i] : d));
    const known = product(out.filter((d) => d !== -1));
    return { shapes: [out.map((d) => (d === -1 ? product(x) / known : d))], flops: 0 };
  },
  Flatten: ({ attrs, shape }) => {
    const x = shape(0);
    const a = axisIndex(intAttr(attrs, 'axis', 1), x.length);
    return { shapes: [[product(x.slice(0, a)), product(x.slice(a))]], flops: 0 };
  },
  Transpose: ({ attrs, shape }) => {
    const x = shape(0);
    const perm = intsAttr(attrs, 'perm') ?? x.map((_, i) => x.length - 1 - i);
    return { shapes: [perm.map((p) => x[p])], flops: 0 };
  },
  Concat: ({ node, attrs, shape }) => {
    const inputs = (node.input ?? []).map((_, i) => shape(i));
    const a = axisIndex(intAttr(attrs, 'axis', 0), inputs[0].length);
    const out = [...inputs[0]];
    out[a] = inputs.reduce((sum, s) => sum + s[a], 0);
    return { shapes: [out], flops: 0 };
  },
  Slice: ({ shape, constant, hasInput }) => {
    const x = shape(0);
    const [starts, ends] = [constant(1), constant(2)];
    if (!starts || !ends) throw new Error('starts/ends are not constants');
    const axes = (hasInput(3) ? constant(3) : undefined) ?? starts.map((_, i) => i);
    const steps = (hasInput(4) ? constant(4) : undefined) ?? starts.map(() => 1);
    const out = [...x];
    axes.forEach((axis, i) => {
      const a = axisIndex(axis, x.length);
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
      const norm = (v: number) => (v < 0 ? v + x[a] : v);
      const step = steps[i];
      const s = step > 0 ? clamp(norm(starts[i]), 0, x[a]) : clamp(norm(starts[i]), -1, x[a] - 1);
      const e = step > 0 ? clamp(norm(ends[i]), 0, x[a]) : clamp(norm(ends[i]), -1, x[a] - 1);
      out[a] = Math.max(0, Math.ceil((e - s) / step));
    });
    return { shapes: [out], flops: 0 };
  },
  Resize: resize,
  Upsample: resize,
  Pad: ({ attrs, shape, constant, hasInput }) => {
    const x = shape(0);
    const pads = hasInput(1) ? constant(1) : intsAttr(attrs, 'pads');
    if (!pads) throw new Error('pads are not constants');
    return { shapes: [x.map((d, i) => d + pads[i] + pads[i + x.length])], flops: 0 };
  },
  Gather: ({ attrs, shape }) => {
    const [data, indices] = [shape(0), shape(1)];
    const a = axisIndex(intAttr(attrs, 'axis', 0), data.length);
    return { shapes: [[...data.slice(0, a), ...indices, ...data.slice(a + 1)]], flops: 0 };
  },
  Squeeze: ({ attrs, shape, constant, hasInput }) => {
    const x = shape(0);
    const axes = (hasInput(1) ? constant(1) : undefined) ?? intsAttr(attrs, 'axes');
    const drop = new Set((axes ?? x.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => axisIndex(a, x.length)));
    return { shapes: [x.filter((_, i) => !drop.has(i))], flops: 0 };
  },
  Unsqueeze: ({ attrs, shape, constant, hasInput }) => {
    const x = shape(0);
    const axes = (hasInput(1) ? constant(1) : undefined) ?? intsAttr(attrs, 'axes');
    if (!axes) throw new Error('axes are not constants');
    const rank = x.length + axes.length;
    const insert = new Set(axes.map((a) => axisIndex(a, rank)));
    const out: Shape = [];
    let at = 0;
    for (let i = 0; i < rank; i++) out.push(insert.has(i) ? 1 : x[at++]);
    return { shapes: [out], flops: 0 };
  },
  // The second output (mask) has the same shape; it is never used at inference.
  Dropout: ({ shape }) => ({ shapes: [shape(0), shape(0)], flops: 0 }),
};
