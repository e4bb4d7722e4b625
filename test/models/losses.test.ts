import { strict as assert } from 'node:assert';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { accuracy, binaryCrossEntropy, gaussianKl, meanSquaredError, softmaxCrossEntropy } from '../../src/models/losses';

const close = (actual: number, expected: number, tol = 1e-5) =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `expected ${expected}, got ${actual}`);

describe('train/losses (against hand-computed values)', () => {
  before(async () => {
    await useBackend('wasm');
  });

  // Two "images" of 2 pixels each: targets t, predictions p.
  const t = [
    [1, 0],
    [0.5, 0.25],
  ];
  const p = [
    [0.9, 0.2],
    [0.5, 0.5],
  ];
  const bcePixel = (ti: number, pi: number) => -(ti * Math.log(pi) + (1 - ti) * Math.log(1 - pi));

  it('BCE with sum reduction: sum over pixels, mean over images', () => {
    const perImage = t.map((row, i) => row.reduce((s, ti, j) => s + bcePixel(ti, p[i][j]), 0));
    const expected = (perImage[0] + perImage[1]) / 2;
    close(binaryCrossEntropy(tf.tensor2d(t), tf.tensor2d(p), 'sum').dataSync()[0], expected);
  });

  it('BCE with mean reduction: mean over pixels, mean over images', () => {
    const perImage = t.map((row, i) => row.reduce((s, ti, j) => s + bcePixel(ti, p[i][j]), 0) / 2);
    close(binaryCrossEntropy(tf.tensor2d(t), tf.tensor2d(p), 'mean').dataSync()[0], (perImage[0] + perImage[1]) / 2);
  });

  it('BCE stays finite when a prediction is exactly 0 or 1', () => {
    const v = binaryCrossEntropy(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 1]]), 'sum').dataSync()[0];
    assert.ok(Number.isFinite(v) && v > 20, `got ${v}`);
  });

  it('MSE with sum and mean reductions', () => {
    // image 0: (0.1^2 + 0.2^2) = 0.05 ; image 1: (0 + 0.25^2) = 0.0625
    close(meanSquaredError(tf.tensor2d(t), tf.tensor2d(p), 'sum').dataSync()[0], (0.05 + 0.0625) / 2);
    close(meanSquaredError(tf.tensor2d(t), tf.tensor2d(p), 'mean').dataSync()[0], (0.025 + 0.03125) / 2);
  });

  it('Gaussian KL against N(0, I)', () => {
    const mu = [
      [0, 1],
      [0.5, -0.5],
    ];
    const logvar = [
      [0, Math.log(2)],
      [-1, 0.3],
    ];
    const kl = (m: number[], lv: number[]) => -0.5 * m.reduce((s, mi, j) => s + 1 + lv[j] - mi * mi - Math.exp(lv[j]), 0);
    close(gaussianKl(tf.tensor2d(mu), tf.tensor2d(logvar)).dataSync()[0], (kl(mu[0], logvar[0]) + kl(mu[1], logvar[1])) / 2);
    close(gaussianKl(tf.zeros([3, 4]), tf.zeros([3, 4])).dataSync()[0], 0);
  });

  it('softmax cross-entropy and accuracy', () => {
    const logits = [
      [2, 0, -1],
      [0, 0, 3],
    ];
    const labels = [0, 1];
    const ce = (row: number[], label: number) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[label];
    close(softmaxCrossEntropy(tf.tensor2d(logits), tf.tensor1d(labels, 'int32')).dataSync()[0], (ce(logits[0], 0) + ce(logits[1], 1)) / 2);
    close(accuracy(tf.tensor2d(logits), tf.tensor1d(labels, 'int32')).dataSync()[0], 0.5);
  });
});
