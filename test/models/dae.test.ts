import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { DenoisingAutoencoder, daeConfigSchema } from '../../src/models/dae';
import type { DataShape, StepContext } from '../../src/models';
import { train } from '../../src/train/trainer';
import { downsampledMnist, firstAndLast, runRecords } from './helpers';

const NOISE_KINDS = ['gaussian', 'masking', 'salt-and-pepper'] as const;
const LEVEL = 0.3;
const SHAPE: DataShape = { height: 16, width: 16, channels: 1, numClasses: 10, valueRange: 'unit' };

/** Exposes the corruption the encoder sees in training. */
class NoiseProbe extends DenoisingAutoencoder {
  corrupt(x: tf.Tensor4D, seed: number): tf.Tensor4D {
    const ctx: StepContext = { step: 0, epoch: 0, seed, beta: 1 };
    return this.trainingInput(x, ctx);
  }
}

function probe(kind: (typeof NOISE_KINDS)[number], shape = SHAPE, level = LEVEL): NoiseProbe {
  const config = daeConfigSchema.parse({ family: 'dae', architecture: 'mlp', hiddenSizes: [8], latentSize: 2, noise: { kind, level } });
  return new NoiseProbe(config, shape, 1);
}

/** Fractions of values equal to low, equal to high, and the std of the change of the others. */
function noiseStats(clean: number, noisy: Float32Array, low: number, high: number): { low: number; high: number; changedStd: number } {
  let lows = 0;
  let highs = 0;
  let sq = 0;
  for (const v of noisy) {
    if (v === low) lows++;
    else if (v === high) highs++;
    sq += (v - clean) ** 2;
  }
  return { low: lows / noisy.length, high: highs / noisy.length, changedStd: Math.sqrt(sq / noisy.length) };
}

describe('models/dae noise kinds', function () {
  this.timeout(60_000);
  before(async () => {
    await useBackend('wasm');
  });

  // 64 images of 16x16 at a constant 0.5: 16k values, so fractions are within ~1% of their expectation.
  const statsOf = (kind: (typeof NOISE_KINDS)[number], shape = SHAPE, level = LEVEL) => {
    const model = probe(kind, shape, level);
    try {
      const [low, high] = shape.valueRange === 'unit' ? [0, 1] : [-1, 1];
      const clean = (low + high) / 2;
      const noisy = tf.tidy(() => model.corrupt(tf.fill([64, shape.height, shape.width, 1], clean) as tf.Tensor4D, 5).dataSync() as Float32Array);
      return noiseStats(clean, noisy, low, high);
    } finally {
      model.dispose();
    }
  };

  it('gaussian: adds N(0, level^2) scaled to the value range, clipped to it', () => {
    // level 0.1: the range ends are 5 sigma from 0.5, so clipping leaves the std unchanged.
    const small = 0.1;
    const stats = statsOf('gaussian', SHAPE, small);
    assert.ok(Math.abs(stats.changedStd - small) < 0.005, `std ${stats.changedStd}, expected ${small}`);
    const symmetric = statsOf('gaussian', { ...SHAPE, valueRange: 'symmetric' }, small).changedStd;
    assert.ok(Math.abs(symmetric - 2 * small) < 0.01, `in [-1, 1] the std doubles with the range: ${symmetric}`);
    // level 0.3 clips at 1.7 sigma: the ends get the tails (P(|N| > 1.67) = 9.6%, about 4.8% each).
    const clipped = statsOf('gaussian');
    assert.ok(Math.abs(clipped.low - 0.048) < 0.01 && Math.abs(clipped.high - 0.048) < 0.01, JSON.stringify(clipped));
  });

  it('masking: sets a level fraction of pixels to the bottom of the range', () => {
    const stats = statsOf('masking');
    assert.ok(Math.abs(stats.low - LEVEL) < 0.02 && stats.high === 0, JSON.stringify(stats));
    const symmetric = statsOf('masking', { ...SHAPE, valueRange: 'symmetric' });
    assert.ok(Math.abs(symmetric.low - LEVEL) < 0.02, `masked to -1 in [-1, 1]: ${JSON.stringify(symmetric)}`);
  });

  it('salt-and-pepper: sets level/2 of pixels to the top and level/2 to the bottom', () => {
    const stats = statsOf('salt-and-pepper');
    assert.ok(Math.abs(stats.low - LEVEL / 2) < 0.02 && Math.abs(stats.high - LEVEL / 2) < 0.02, JSON.stringify(stats));
  });

  it('noise is seeded by the step and never applied at evaluation', () => {
    for (const kind of NOISE_KINDS) {
      const model = probe(kind);
      try {
        tf.tidy(() => {
          const x = tf.fill([4, 16, 16, 1], 0.5) as tf.Tensor4D;
          assert.deepEqual(model.corrupt(x, 9).dataSync(), model.corrupt(x, 9).dataSync(), `${kind}: same seed, same noise`);
          assert.notDeepEqual(model.corrupt(x, 9).dataSync(), model.corrupt(x, 10).dataSync(), `${kind}: new seed, new noise`);
          const batch = { x, labels: tf.zeros([4], 'int32') as tf.Tensor1D, oneHot: tf.zeros([4, 10]) as tf.Tensor2D, size: 4 };
          const a = model.evaluateBatch(batch, { step: 0, epoch: 0, seed: 1, beta: 1 }).reconstruction.dataSync()[0];
          const b = model.evaluateBatch(batch, { step: 0, epoch: 0, seed: 2, beta: 1 }).reconstruction.dataSync()[0];
          assert.equal(a, b, `${kind}: evaluation must not depend on the noise seed`);
        });
      } finally {
        model.dispose();
      }
    }
  });

  describe('training with each noise kind', () => {
    let dir: string;
    let dataset: Awaited<ReturnType<typeof downsampledMnist>>;
    before(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-dae-'));
      dataset = await downsampledMnist(dir, 14, 1000);
    });
    after(async () => {
      await fs.rm(dir, { recursive: true, force: true });
    });

    for (const kind of NOISE_KINDS) {
      it(`${kind}: 200 steps lower the reconstruction loss of clean targets`, async () => {
        const result = await train({
          name: kind,
          outDir: dir,
          model: { family: 'dae', architecture: 'mlp', hiddenSizes: [64], latentSize: 16, noise: { kind, level: LEVEL } },
          data: { dataset },
          train: { epochs: 4, batchSize: 16, learningRate: 3e-3, logEvery: 5, seed: 1, validationFraction: 0.1, checkpointEvery: 100, backend: 'wasm' },
        });
        const { steps, epochs } = await runRecords(result.runDir);
        const [first, last] = firstAndLast(steps, 'reconstruction');
        assert.ok(last < 0.7 * first, `loss should fall by >30%: ${first} -> ${last}`);
        assert.ok(epochs[epochs.length - 1].validation.reconstruction < epochs[0].validation.reconstruction);
      });
    }
  });
});
