/**
 * Global-norm clipping and Adam as ONNX nodes, the same update as src/train/optim.ts (PyTorch's
 * rule: eps added after the square root of the bias-corrected second moment). The bias
 * corrections depend on the step, so the caller feeds them as scalars each step: `lrOverC1` =
 * lr / (1 - beta1^t) and `c2` = 1 - beta2^t.
 */
import type { AdamSettings } from '../../optim';
import type { TrainingGraph } from './graph';

/** One parameter the optimizer updates. */
export interface AdamSlot {
  /** Current value and its gradient. */
  param: string;
  grad: string;
  /** Graph inputs of its first and second moments. */
  m: string;
  v: string;
}

/** Updated values of one parameter. */
export interface AdamUpdate {
  param: string;
  m: string;
  v: string;
}

/** Scalars fed each step. */
export interface AdamStepInputs {
  lrOverC1: string;
  c2: string;
}

/** The global L2 norm of the gradients (what clipping compares with `clipNorm`, and what the trainer logs). */
export function emitGlobalNorm(g: TrainingGraph, grads: readonly string[]): string {
  const squares = grads.map((grad) => g.node('ReduceSumSquare', [grad], 'adam/sq', { keepdims: 0 }));
  const sumSquares = squares.length === 1 ? squares[0] : g.node('Sum', squares, 'adam/sum_sq');
  return g.node('Sqrt', [sumSquares], 'adam/grad_norm');
}

/**
 * Emit the clipped Adam update of every slot. Returns the global gradient norm (before clipping,
 * as the trainer logs it) and the updated values, in slot order.
 */
export function emitAdam(
  g: TrainingGraph,
  slots: readonly AdamSlot[],
  settings: AdamSettings,
  step: AdamStepInputs,
  clipNorm: number | undefined,
): { norm: string; updates: AdamUpdate[] } {
  const norm = emitGlobalNorm(g, slots.map((s) => s.grad));
  // Clipping multiplies every gradient by `scale`; folding it into the two moment coefficients
  // saves a pass over every gradient.
  let a1 = g.scalar(1 - settings.beta1);
  let a2 = g.scalar(1 - settings.beta2);
  if (clipNorm !== undefined) {
    const clip = g.scalar(clipNorm);
    const scale = g.node('Where', [g.node('Greater', [norm, clip], 'adam/clip_on'), g.node('Div', [clip, norm], 'adam/clip_ratio'), g.scalar(1)], 'adam/clip_scale');
    a1 = g.node('Mul', [a1, scale], 'adam/a1');
    a2 = g.node('Mul', [a2, g.node('Mul', [scale, scale], 'adam/scale2')], 'adam/a2');
  }
  const b1 = g.scalar(settings.beta1);
  const b2 = g.scalar(settings.beta2);
  const eps = g.scalar(settings.epsilon);
  const updates = slots.map((s) => {
    const m = g.node('Add', [g.node('Mul', [s.m, b1], 'adam/m_decay'), g.node('Mul', [s.grad, a1], 'adam/m_new')], 'adam/m');
    const v = g.node('Add', [g.node('Mul', [s.v, b2], 'adam/v_decay'), g.node('Mul', [g.node('Mul', [s.grad, s.grad], 'adam/g2'), a2], 'adam/v_new')], 'adam/v');
    const denominator = g.node('Add', [g.node('Sqrt', [g.node('Div', [v, step.c2], 'adam/v_hat')], 'adam/v_sqrt'), eps], 'adam/denominator');
    const update = g.node('Div', [g.node('Mul', [m, step.lrOverC1], 'adam/m_scaled'), denominator], 'adam/update');
    return { param: g.node('Sub', [s.param, update], 'adam/param'), m, v };
  });
  return { norm, updates };
}
