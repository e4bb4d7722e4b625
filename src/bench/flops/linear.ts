/** Matrix products: Gemm (2·M·N·K, plus M·N for the bias) and MatMul (2·M·N·K per batch matrix). */
import { broadcast, intAttr, product } from './node';
import type { FlopRule } from './node';

/** Rules of the matrix products, by op type. */
export const LINEAR_RULES: Readonly<Record<string, FlopRule>> = {
  Gemm: ({ attrs, shape, hasInput }) => {
    const [a, b] = [shape(0), shape(1)];
    const [m, k] = intAttr(attrs, 'transA', 0) ? [a[1], a[0]] : [a[0], a[1]];
    const n = intAttr(attrs, 'transB', 0) ? b[0] : b[1];
    return { shapes: [[m, n]], flops: 2 * m * n * k + (hasInput(2) ? m * n : 0) };
  },
  MatMul: ({ shape }) => {
    const [a, b] = [shape(0), shape(1)];
    // Vectors are promoted to matrices, and the added axis dropped from the output (numpy's rule).
    const a2 = a.length === 1 ? [1, a[0]] : a;
    const b2 = b.length === 1 ? [b[0], 1] : b;
    const k = a2[a2.length - 1];
    const batchDims = broadcast([a2.slice(0, -2), b2.slice(0, -2)]);
    const full = [...batchDims, a2[a2.length - 2], b2[b2.length - 1]];
    const out = full.filter((_, i) => !((a.length === 1 && i === full.length - 2) || (b.length === 1 && i === full.length - 1)));
    return { shapes: [out], flops: 2 * product(full) * k };
  },
};
