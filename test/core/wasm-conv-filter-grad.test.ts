import { strict as assert } from 'node:assert';
import { tf, useBackend } from '../../src/core/tfjs-backend';

/** Filter and input gradients of conv layers on wasm must equal the cpu backend's. */
interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid';
  transpose?: boolean;
}

const CASES: Case[] = [
  { name: 'conv 3x3 stride 1 same', x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { name: 'conv 4x4 stride 2 same (even size)', x: [3, 28, 28, 1], filter: [4, 4, 1, 8], strides: 2, pad: 'same' },
  { name: 'conv 3x3 stride 2 same (odd size)', x: [2, 7, 7, 5], filter: [3, 3, 5, 6], strides: 2, pad: 'same' },
  { name: 'conv 5x5 stride 2 valid', x: [2, 13, 11, 2], filter: [5, 5, 2, 3], strides: 2, pad: 'valid' },
  { name: 'conv-transpose 4x4 stride 2 same', x: [2, 7, 7, 6], filter: [4, 4, 5, 6], strides: 2, pad: 'same', transpose: true },
  { name: 'conv-transpose 3x3 stride 2 same', x: [2, 7, 7, 4], filter: [3, 3, 2, 4], strides: 2, pad: 'same', transpose: true },
];

function gradients(c: Case, xData: Float32Array, wData: Float32Array): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(xData, c.x);
    const w = tf.tensor4d(wData, c.filter);
    const f = (xi: tf.Tensor, wi: tf.Tensor) => {
      const y = c.transpose
        ? tf.conv2dTranspose(xi as tf.Tensor4D, wi as tf.Tensor4D, [c.x[0], c.x[1] * c.strides, c.x[2] * c.strides, c.filter[2]], c.strides, c.pad)
        : tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, c.strides, c.pad);
      // A non-uniform upstream gradient, so every dy position matters.
      return tf.sum(tf.mul(tf.sin(y), y));
    };
    const [dx, dw] = tf.grads(f)([x, w]);
    return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('core/wasm-conv-filter-grad', () => {
  after(async () => {
    await tf.setBackend('wasm');
  });

  for (const c of CASES) {
    it(`${c.name}: wasm gradient equals cpu gradient`, async () => {
      const n = c.x.reduce((a, b) => a * b, 1);
      const m = c.filter.reduce((a, b) => a * b, 1);
      const xData = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.8);
      const wData = Float32Array.from({ length: m }, (_, i) => Math.cos(i * 0.91) * 0.3);
      await useBackend('wasm');
      const onWasm = gradients(c, xData, wData);
      await tf.setBackend('cpu');
      const onCpu = gradients(c, xData, wData);
      await tf.setBackend('wasm');
      const scale = Math.max(...Array.from(onCpu.dw, Math.abs));
      assert.ok(scale > 0, 'gradient must not be all zeros');
      assert.ok(maxAbsDiff(onWasm.dw, onCpu.dw) <= 1e-4 * Math.max(1, scale), `dW differs by ${maxAbsDiff(onWasm.dw, onCpu.dw)}`);
      assert.ok(maxAbsDiff(onWasm.dx, onCpu.dx) <= 1e-4 * Math.max(1, scale), `dX differs by ${maxAbsDiff(onWasm.dx, onCpu.dx)}`);
    });
  }

  it('releases every intermediate buffer', async () => {
    await useBackend('wasm');
    const c = CASES[1];
    const xData = new Float32Array(c.x.reduce((a, b) => a * b, 1)).fill(0.5);
    const wData = new Float32Array(c.filter.reduce((a, b) => a * b, 1)).fill(0.1);
    gradients(c, xData, wData);
    const before = tf.memory().numBytes;
    for (let i = 0; i < 3; i++) gradients(c, xData, wData);
    assert.equal(tf.memory().numBytes, before);
  });
});
