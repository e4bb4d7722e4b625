import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { getFamily } from '../../src/models';
import type { JointVae } from '../../src/models/joint-vae';
import { train } from '../../src/train/trainer';
import { assertExportParity, downsampledMnist, firstAndLast, runRecords } from './helpers';
import { TEST_SHAPE, tinyBatch } from './describe-family';

describe('models/joint-vae', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    await useBackend('wasm');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-joint-vae-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("defaults to Dupont's MNIST setting: 10 continuous dimensions and one 10-way variable at temperature 0.67", () => {
    const config = getFamily('joint-vae').configSchema.parse({ family: 'joint-vae' }) as JointVae['config'];
    assert.equal(config.latentSize, 10);
    assert.deepEqual(config.categorical, { variables: 1, classes: 10 });
    assert.deepEqual(config.temperature, { initial: 0.67, min: 0.67, rate: 0 });
  });

  it('codes are [continuous | one-hot]: encode gives the mean and the arg-max class, the prior a Gaussian and a one-hot', () => {
    const family = getFamily('joint-vae');
    const model = family.build(family.configSchema.parse(family.tinyConfig), TEST_SHAPE, 2) as JointVae;
    try {
      assert.equal(model.latentSize, 2 + 2 * 3);
      assert.deepEqual(model.ioNames.encoder?.outputs, ['mu', 'logvar', 'logits']);
      tf.tidy(() => {
        const batch = tinyBatch(TEST_SHAPE);
        const [mu, , logits] = model.parts.encoder.predict(batch.x) as tf.Tensor2D[];
        const code = model.encode(batch.x);
        assert.deepEqual(code.slice([0, 0], [-1, 2]).arraySync(), mu.arraySync());
        const oneHots = code.slice([0, 2], [-1, 6]).reshape([-1, 2, 3]).arraySync() as number[][][];
        const classes = logits.reshape([-1, 2, 3]).argMax(-1).arraySync() as number[][];
        oneHots.forEach((variables, i) => variables.forEach((v, j) => assert.equal(v.indexOf(1), classes[i][j])));
        const prior = model.samplePrior(200, 1);
        const discrete = prior.slice([0, 2], [-1, 6]).reshape([-1, 3]).arraySync() as number[][];
        for (const row of discrete) assert.deepEqual([...row].sort(), [0, 0, 1]);
        const continuous = prior.slice([0, 0], [-1, 2]);
        assert.ok(Math.abs(tf.moments(continuous).variance.dataSync()[0] - 1) < 0.25, 'N(0, 1) part');
      });
    } finally {
      model.dispose();
    }
  });

  it('200 steps lower the loss with both KLs logged, and the 3-output encoder exports with parity', async () => {
    const dataset = await downsampledMnist(dir, 14, 1000);
    const result = await train({
      name: 'joint',
      outDir: dir,
      model: { family: 'joint-vae', convChannels: [8], latentSize: 4, categorical: { variables: 1, classes: 10 } },
      data: { dataset },
      train: { epochs: 4, batchSize: 16, learningRate: 3e-3, logEvery: 5, seed: 1, validationFraction: 0.1, checkpointEvery: 100, backend: 'wasm' },
    });
    const { steps, epochs } = await runRecords(result.runDir);
    const [first, last] = firstAndLast(steps, 'total');
    assert.ok(last < 0.7 * first, `loss should fall by >30%: ${first} -> ${last}`);
    for (const record of steps) {
      assert.ok(Math.abs(record.terms.kl - record.terms.klContinuous - record.terms.klDiscrete) < 1e-3, 'kl = continuous + discrete');
      assert.ok(Math.abs(record.terms.temperature - 0.67) < 1e-6);
    }
    const validation = epochs.at(-1)!.validation;
    assert.ok(validation.negElbo < epochs[0].validation.negElbo, 'validation ELBO improves');
    for (const key of ['reconstruction', 'klContinuous', 'klDiscrete']) assert.ok(Number.isFinite(validation[key]), key);
    await assertExportParity(result.runDir, path.join(dir, 'onnx'), ['encoder', 'decoder']);
  });
});
