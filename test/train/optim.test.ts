import { strict as assert } from 'node:assert';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { Adam, exponentialLr, globalNorm, warmedUpBeta } from '../../src/train/optim';

describe('train/optim', () => {
  before(async () => {
    await useBackend('wasm');
  });

  it('Adam follows torch.optim.Adam for two steps (hand-computed)', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const adam = new Adam([w]);
    const lr = 0.1;
    // Step 1, grad g1: m = 0.1 g, v = 0.001 g^2, mhat = g, vhat = g^2 -> update = lr * g/(|g| + eps).
    adam.apply([tf.tensor1d([0.5, -4])], lr);
    const after1 = w.dataSync();
    assert.ok(Math.abs(after1[0] - (1 - lr * 0.5 / (0.5 + 1e-8))) < 1e-6);
    assert.ok(Math.abs(after1[1] - (-2 + lr * 4 / (4 + 1e-8))) < 1e-6);
    // Step 2 with grad g2 for the first weight.
    const g1 = 0.5;
    const g2 = 0.25;
    adam.apply([tf.tensor1d([g2, 0])], lr);
    const m = 0.9 * (0.1 * g1) + 0.1 * g2;
    const v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2;
    const expected = after1[0] - (lr * (m / (1 - 0.9 ** 2))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
    assert.ok(Math.abs(w.dataSync()[0] - expected) < 1e-6, `${w.dataSync()[0]} vs ${expected}`);
    assert.equal(adam.iterations, 2);
  });

  it('state round-trips exactly', async () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const a = new Adam([w]);
    a.apply([tf.tensor1d([0.1, 0.2, 0.3])], 0.01);
    const state = await a.getState();
    const w2 = tf.variable(tf.tensor1d(Array.from(w.dataSync())));
    const b = new Adam([w2]);
    b.setState(state);
    a.apply([tf.tensor1d([0.3, -0.1, 0.2])], 0.01);
    b.apply([tf.tensor1d([0.3, -0.1, 0.2])], 0.01);
    assert.deepEqual(Array.from(w.dataSync()), Array.from(w2.dataSync()));
  });

  it('clipping scale, global norm, lr schedule and KL warm-up', () => {
    assert.ok(Math.abs(globalNorm([tf.tensor1d([3]), tf.tensor1d([4])]).dataSync()[0] - 5) < 1e-6);
    assert.ok(Math.abs(exponentialLr(0.1, 0.5, 3) - 0.0125) < 1e-12);
    assert.equal(warmedUpBeta(2, 100, 50), 1);
    assert.equal(warmedUpBeta(2, 100, 500), 2);
    assert.equal(warmedUpBeta(2, 0, 0), 2);
  });
});
