/**
 * BatchNorm momentum in PyTorch's convention (issue 17): `batchNormMomentum` m moves the running
 * statistics by running = (1 - m)·running + m·batch each training step, 0.1 by default as in
 * torch.nn.BatchNorm2d; the shipped classifiers' recipes pin the 0.01 they were trained with.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { EXPERIMENTS_DIR } from '../../src/core/paths';
import { tf } from '../../src/core/tfjs-backend';
import { getFamily } from '../../src/models';
import { BATCH_NORM_MOMENTUM, batchNorm } from '../../src/models/layers';
import type { DataShape } from '../../src/models/types';

const SHAPE: DataShape = { height: 8, width: 8, channels: 1, numClasses: 10, valueRange: 'unit' };

/** The tfjs `momentum` of every BatchNorm layer of every part of a family's model. */
function tfjsMomenta(config: Record<string, unknown>): number[] {
  const family = getFamily(String(config.family));
  const model = family.build(family.configSchema.parse(config), SHAPE, 0);
  try {
    return Object.values(model.parts).flatMap((part) =>
      (part as tf.LayersModel).layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.getConfig().momentum as number),
    );
  } finally {
    model.dispose();
  }
}

describe('models: BatchNorm momentum (PyTorch convention)', () => {
  it('defaults to 0.1, i.e. tfjs momentum 0.9, in the classifier and the conv autoencoders', () => {
    assert.equal(BATCH_NORM_MOMENTUM, 0.1);
    const classifier = tfjsMomenta({ family: 'classifier', convChannels: [4, 8], featureSize: 8 });
    const vae = tfjsMomenta({ family: 'vae', convChannels: [4, 8], latentSize: 3, batchNorm: true });
    assert.equal(classifier.length, 2);
    assert.equal(vae.length, 3, 'two in the encoder, one in the decoder');
    for (const m of [...classifier, ...vae]) assert.equal(m, 0.9);
  });

  it('moves the running mean by m·(batch mean - running mean) per training step', () => {
    const layer = batchNorm(0.1, 'bn_probe');
    const x = tf.tensor4d([1, 3, 5, 7, 2, 4, 6, 8], [2, 2, 2, 1]); // mean 4.5, one channel
    const step = (): void => tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
    const runningMean = (): number => layer.weights.find((w) => w.name.includes('moving_mean'))!.read().dataSync()[0]!;
    step();
    assert.ok(Math.abs(runningMean() - 0.45) < 1e-6, `running mean 0 -> ${runningMean()}, expected 0.1 * 4.5`);
    step();
    assert.ok(Math.abs(runningMean() - (0.9 * 0.45 + 0.1 * 4.5)) < 1e-6, `then ${runningMean()}`);
    x.dispose();
  });

  it('refuses a momentum outside (0, 1], naming the field', () => {
    const schema = getFamily('classifier').configSchema;
    for (const bad of [0, 1.5, -0.1]) {
      const parsed = schema.safeParse({ family: 'classifier', batchNormMomentum: bad });
      assert.ok(!parsed.success, `${bad} accepted`);
      assert.deepEqual(parsed.error.issues[0]!.path, ['batchNormMomentum']);
    }
  });

  for (const recipe of ['mnist-classifier.json', 'colored-mnist-classifier.json']) {
    it(`${recipe} pins 0.01 (tfjs 0.99), the momentum its shipped .onnx was trained with`, async () => {
      const config = JSON.parse(await fs.readFile(path.join(EXPERIMENTS_DIR, recipe), 'utf8')) as { model: Record<string, unknown> };
      assert.equal(config.model.batchNormMomentum, 0.01);
      for (const m of tfjsMomenta(config.model)) assert.equal(m, 0.99);
    });
  }
});
