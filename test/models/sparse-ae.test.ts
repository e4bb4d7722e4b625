import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../../src/core/tfjs-backend';
import { loadDataset } from '../../src/data';
import { loadCheckpoint } from '../../src/run/checkpoint';
import { train } from '../../src/train/trainer';
import { assertExportParity, downsampledMnist, firstAndLast, runRecords } from './helpers';

describe('models/sparse-ae', function () {
  this.timeout(60_000);
  let dir: string;
  let dataset: Awaited<ReturnType<typeof downsampledMnist>>;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-sparse-ae-'));
    dataset = await downsampledMnist(dir, 14, 1000);
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const run = (name: string, sparsity: object) =>
    train({
      name,
      outDir: dir,
      model: { family: 'sparse-ae', architecture: 'mlp', hiddenSizes: [64], latentSize: 16, sparsity },
      data: { dataset },
      train: { epochs: 4, batchSize: 16, learningRate: 3e-3, logEvery: 5, seed: 1, validationFraction: 0.1, checkpointEvery: 100, backend: 'wasm' },
    });

  it('KL sparsity: 200 steps lower the loss and pull the mean code activation towards rho', async () => {
    const result = await run('kl', { kind: 'kl', rho: 0.05 });
    const { steps, epochs } = await runRecords(result.runDir);
    assert.ok(result.steps >= 200, `${result.steps} steps`);
    const [first, last] = firstAndLast(steps, 'total');
    assert.ok(last < 0.7 * first, `loss should fall by >30%: ${first} -> ${last}`);
    const validation = epochs[epochs.length - 1].validation;
    assert.ok(validation.meanActivation < 0.15, `mean sigmoid activation ${validation.meanActivation} should approach rho 0.05 (starts near 0.5)`);
    assert.ok(Number.isFinite(validation.reconstruction) && Number.isFinite(validation.sparsity));
    await assertExportParity(result.runDir, path.join(dir, 'kl-onnx'), ['encoder', 'decoder']);
  });

  it('L1 sparsity on a ReLU code: the loss falls and many code entries are exactly zero', async () => {
    const result = await run('l1', { kind: 'l1', weight: 0.5 });
    const { steps, epochs } = await runRecords(result.runDir);
    const [first, last] = firstAndLast(steps, 'total');
    assert.ok(last < 0.7 * first, `loss should fall by >30%: ${first} -> ${last}`);
    assert.ok(epochs[epochs.length - 1].validation.meanActivation >= 0);
    // Exact zeros in the codes of held-out images: what L1 on a ReLU code buys over KL on sigmoids.
    const [loaded, test] = [await loadCheckpoint(result.runDir), await loadDataset(dataset, 'test', 1)];
    try {
      const zeros = tf.tidy(() => {
        const codes = loaded.model.encode!(tf.tensor4d(test.images, [test.count, 14, 14, 1]));
        return tf.mean(tf.cast(tf.equal(codes, 0), 'float32')).dataSync()[0];
      });
      assert.ok(zeros > 0.5, `fraction of exactly-zero code entries ${zeros}`);
    } finally {
      loaded.model.dispose();
    }
  });
});
