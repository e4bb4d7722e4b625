/**
 * The loss terms of src/models/losses.ts written as ONNX nodes, with the same constants and the
 * same reductions (over the pixels of each image by `reduction`, then the mean over the batch), so
 * that both engines minimise the same number.
 */
import { BCE_EPSILON } from '../../../models/losses';
import type { PixelReduction, ReconstructionLoss } from '../../../models/losses';
import type { TrainingGraph } from './graph';

/** Per-image reduction of a [B, ...] tensor, then the batch mean: a scalar. */
function perImageThenMean(g: TrainingGraph, x: string, reduction: PixelReduction, scope: string): string {
  const shape = g.shape(x);
  const pixels = shape.slice(1).reduce((a, b) => a * b, 1);
  const axes = shape.slice(1).map((_, i) => i + 1);
  const perImage = g.node('ReduceSum', [x, g.ints(axes)], `${scope}/per_image`, { keepdims: 0 });
  const scale = reduction === 'sum' ? 1 : 1 / pixels;
  const mean = g.node('ReduceMean', [perImage], `${scope}/batch_mean`, { keepdims: 0 });
  return scale === 1 ? mean : g.node('Mul', [mean, g.scalar(scale)], scope);
}

/** Binary cross-entropy with predictions clipped to [eps, 1 - eps] (see {@link BCE_EPSILON}). */
export function binaryCrossEntropy(g: TrainingGraph, target: string, predicted: string, reduction: PixelReduction): string {
  const p = g.node('Clip', [predicted, g.scalar(BCE_EPSILON), g.scalar(1 - BCE_EPSILON)], 'bce/p');
  const one = g.scalar(1);
  const positive = g.node('Mul', [target, g.node('Log', [p], 'bce/log_p')], 'bce/pos');
  const negative = g.node('Mul', [g.node('Sub', [one, target], 'bce/one_minus_t'), g.node('Log', [g.node('Sub', [one, p], 'bce/one_minus_p')], 'bce/log_q')], 'bce/neg');
  const bce = g.node('Neg', [g.node('Add', [positive, negative], 'bce/sum')], 'bce/elementwise');
  return perImageThenMean(g, bce, reduction, 'bce');
}

/** Squared error, reduced like {@link binaryCrossEntropy}. */
export function meanSquaredError(g: TrainingGraph, target: string, predicted: string, reduction: PixelReduction): string {
  const diff = g.node('Sub', [target, predicted], 'mse/diff');
  return perImageThenMean(g, g.node('Mul', [diff, diff], 'mse/sq'), reduction, 'mse');
}

/** Reconstruction term by name. */
export function reconstructionLoss(g: TrainingGraph, kind: ReconstructionLoss, target: string, predicted: string, reduction: PixelReduction): string {
  return kind === 'bce' ? binaryCrossEntropy(g, target, predicted, reduction) : meanSquaredError(g, target, predicted, reduction);
}

/** KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dimensions, averaged over the batch. */
export function gaussianKl(g: TrainingGraph, mu: string, logvar: string): string {
  const inner = g.node(
    'Sub',
    [g.node('Sub', [g.node('Add', [g.scalar(1), logvar], 'kl/one_plus'), g.node('Mul', [mu, mu], 'kl/mu2')], 'kl/minus_mu2'), g.node('Exp', [logvar], 'kl/var')],
    'kl/inner',
  );
  const perSample = g.node('ReduceSum', [inner, g.ints([1])], 'kl/per_sample', { keepdims: 0 });
  return g.node('ReduceMean', [g.node('Mul', [perSample, g.scalar(-0.5)], 'kl/scaled')], 'kl', { keepdims: 0 });
}

/** Per-dimension KL averaged over the batch, [latentSize] (src/models/losses.ts gaussianKlPerDimension). */
export function gaussianKlPerDimension(g: TrainingGraph, mu: string, logvar: string): string {
  const inner = g.node(
    'Sub',
    [g.node('Sub', [g.node('Add', [g.scalar(1), logvar], 'kl_dim/one_plus'), g.node('Mul', [mu, mu], 'kl_dim/mu2')], 'kl_dim/minus_mu2'), g.node('Exp', [logvar], 'kl_dim/var')],
    'kl_dim/inner',
  );
  return g.node('ReduceMean', [g.node('Mul', [inner, g.scalar(-0.5)], 'kl_dim/scaled')], 'kl_dim', { axes: [0], keepdims: 0 });
}

/** Number of columns of `mu` [B, D] whose variance over the batch exceeds `threshold` (beta-vae's activeUnits). */
export function activeUnits(g: TrainingGraph, mu: string, threshold: number): string {
  const mean = g.node('ReduceMean', [mu], 'active/mean', { axes: [0], keepdims: 1 });
  const centred = g.node('Sub', [mu, mean], 'active/centred');
  const variance = g.node('ReduceMean', [g.node('Mul', [centred, centred], 'active/sq')], 'active/variance', { axes: [0], keepdims: 0 });
  const active = g.node('Cast', [g.node('Greater', [variance, g.scalar(threshold)], 'active/above')], 'active/flags', { to: 1 });
  return g.node('ReduceSum', [active], 'active', { keepdims: 0 });
}

/**
 * KL(q || uniform) of categorical logits [B, N, K] (src/models/losses.ts categoricalKlToUniform):
 * sum_k q_k (log q_k + log K), summed over the N variables, averaged over the batch.
 */
export function categoricalKlToUniform(g: TrainingGraph, logits: string): string {
  const classes = g.shape(logits)[2];
  const logQ = g.node('LogSoftmax', [logits], 'cat_kl/log_q', { axis: -1 });
  const terms = g.node('Mul', [g.node('Exp', [logQ], 'cat_kl/q'), g.node('Add', [logQ, g.scalar(Math.log(classes))], 'cat_kl/log_ratio')], 'cat_kl/terms');
  const perVariable = g.node('ReduceSum', [terms, g.ints([2])], 'cat_kl/per_variable', { keepdims: 0 });
  const perImage = g.node('ReduceSum', [perVariable, g.ints([1])], 'cat_kl/per_image', { keepdims: 0 });
  return g.node('ReduceMean', [perImage], 'cat_kl', { keepdims: 0 });
}

/** Softmax cross-entropy of logits [B, K] against one-hot labels [B, K], averaged over the batch. */
export function softmaxCrossEntropy(g: TrainingGraph, logits: string, oneHot: string): string {
  const logProbs = g.node('LogSoftmax', [logits], 'ce/log_probs', { axis: 1 });
  const picked = g.node('ReduceSum', [g.node('Mul', [logProbs, oneHot], 'ce/masked'), g.ints([1])], 'ce/picked', { keepdims: 0 });
  return g.node('Neg', [g.node('ReduceMean', [picked], 'ce/mean', { keepdims: 0 })], 'ce');
}

/** Fraction of rows whose arg-max equals the label (both [B, K]; labels one-hot). */
export function accuracy(g: TrainingGraph, logits: string, oneHot: string): string {
  const predicted = g.node('ArgMax', [logits], 'acc/pred', { axis: 1, keepdims: 0 });
  const actual = g.node('ArgMax', [oneHot], 'acc/label', { axis: 1, keepdims: 0 });
  const hits = g.node('Cast', [g.node('Equal', [predicted, actual], 'acc/eq')], 'acc/hits', { to: 1 });
  return g.node('ReduceMean', [hits], 'acc', { keepdims: 0 });
}

/** mean(softplus(-l)) for label 1, mean(softplus(l)) for 0: src/models/losses.ts logitBinaryCrossEntropy. */
export function logitBinaryCrossEntropy(g: TrainingGraph, logits: string, label: 0 | 1): string {
  const signed = label === 1 ? g.node('Neg', [logits], 'gan/neg_logits') : logits;
  return g.node('ReduceMean', [g.node('Softplus', [signed], 'gan/softplus')], `gan/bce_${label}`, { keepdims: 0 });
}

/** mean((prediction - target)^2): src/models/losses.ts leastSquaresGanLoss. */
export function leastSquaresGanLoss(g: TrainingGraph, prediction: string, target: 0 | 1): string {
  const diff = target === 0 ? prediction : g.node('Sub', [prediction, g.scalar(target)], 'lsgan/diff');
  return g.node('ReduceMean', [g.node('Mul', [diff, diff], 'lsgan/sq')], `lsgan_${target}`, { keepdims: 0 });
}

/** mean |target - predicted|: src/models/losses.ts meanAbsoluteError. */
export function meanAbsoluteError(g: TrainingGraph, target: string, predicted: string): string {
  return g.node('ReduceMean', [g.node('Abs', [g.node('Sub', [target, predicted], 'l1/diff')], 'l1/abs')], 'l1', { keepdims: 0 });
}
