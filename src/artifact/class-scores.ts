/**
 * What a classifier's class scores ({@link ClassScores}, from `describeArtifact`) mean as numbers:
 * probabilities and the top class of each image. serve (`/classify`) and eval (accuracy) read them
 * here.
 *
 * Pure code (no Node imports).
 */
import type { ClassScores } from './info';

/**
 * The class probabilities of rows of class scores: the softmax of logits, in float64 after
 * subtracting each row's largest logit (no overflow), or the scores themselves when the graph ends
 * in a softmax.
 */
export function classProbabilities(scores: ClassScores, values: Float32Array): Float32Array {
  if (scores.kind === 'probabilities') return values;
  const width = scores.numClasses;
  const out = new Float32Array(values.length);
  const exps = new Float64Array(width);
  for (let at = 0; at < values.length; at += width) {
    let max = -Infinity;
    for (let c = 0; c < width; c++) max = Math.max(max, values[at + c]);
    let sum = 0;
    for (let c = 0; c < width; c++) sum += exps[c] = Math.exp(values[at + c] - max);
    for (let c = 0; c < width; c++) out[at + c] = exps[c] / sum;
  }
  return out;
}

/** The top class of each row of `numClasses` scores (logits or probabilities: the same order); the first of equals. */
export function topClasses(values: Float32Array, numClasses: number): Int32Array {
  const out = new Int32Array(values.length / numClasses);
  for (let r = 0; r < out.length; r++) {
    const at = r * numClasses;
    for (let c = 1; c < numClasses; c++) if (values[at + c] > values[at + out[r]]) out[r] = c;
  }
  return out;
}
