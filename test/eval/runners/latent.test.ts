import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../../../src/core/rng';
import { loadMnist, mnistDataDir } from '../../../src/data/mnist';
import { evaluate } from '../../../src/eval/evaluate';
import { scoreClassifiers } from '../../../src/eval/metrics/latent-classifiers';
import { LABEL_FREE_ENCODER_INPUT, ModelIo, labelFreeRow } from '../../../src/eval/model-io';
import { loadTarget } from '../../../src/eval/target';
import { getFamily } from '../../../src/models';
import { TINY_VAE, tinyRun } from '../helpers';

/** Rows the classifiers train and score on: at 1,000 test rows, chance (~10%) has a standard error of 1%. */
const TRAIN_ROWS = 2000;
const TEST_ROWS = 1000;

/**
 * How far above chance label-free codes may score on labels that are independent of the images:
 * 5 standard errors of an accuracy of 0.1 on 1,000 rows (0.0095 each).
 */
const CHANCE_MARGIN = 0.05;

/** An IDX label file (magic 0x801: unsigned bytes, one dimension). */
async function writeIdxLabels(file: string, labels: Int32Array): Promise<void> {
  const bytes = Buffer.alloc(8 + labels.length);
  bytes.writeUInt32BE(0x801, 0);
  bytes.writeUInt32BE(labels.length, 4);
  labels.forEach((l, i) => (bytes[8 + i] = l));
  await fs.writeFile(file, bytes);
}

/** MNIST's own labels, shuffled: classes as frequent as ever, but independent of the images. */
function shuffledLabels(labels: Int32Array, rng: Rng): Int32Array {
  const order = rng.permutation(labels.length);
  return Int32Array.from(order, (i) => labels[i]);
}

describe('latent classifiers: conditional encoders are given no label (no leak)', function () {
  this.timeout(300_000);
  let dir: string;
  let cvaeRun: string;
  let spec: { name: 'idx'; images: string; labels: string; testImages: string; testLabels: string; limit: number };
  let train: Int32Array;
  let test: Int32Array;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-latent-leak-'));
    cvaeRun = await tinyRun(dir, 'cvae', getFamily('cvae').tinyConfig);
    const rng = new Rng(15);
    train = shuffledLabels(loadMnist('train').labels, rng);
    test = shuffledLabels(loadMnist('test').labels, rng);
    const mnist = mnistDataDir();
    spec = {
      name: 'idx',
      images: path.join(mnist, 'train-images-idx3-ubyte'),
      labels: path.join(dir, 'shuffled-train-labels'),
      testImages: path.join(mnist, 't10k-images-idx3-ubyte'),
      testLabels: path.join(dir, 'shuffled-test-labels'),
      limit: TRAIN_ROWS,
    };
    await writeIdxLabels(spec.labels, train);
    await writeIdxLabels(spec.testLabels, test);
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const classifiers = ['logistic-regression', 'knn'] as const;

  it('with labels independent of the images, codes of a cvae score chance, and the report names what the encoder was given', async () => {
    const report = await evaluate(cvaeRun, { dataset: spec, metrics: ['latent'], latentTrainCount: TRAIN_ROWS, latentTestCount: TEST_ROWS, latentClassifiers: classifiers, figures: false });
    const latent = report.latent!;
    assert.equal(latent.encoderLabel, LABEL_FREE_ENCODER_INPUT);
    assert.deepEqual([latent.trainCount, latent.testCount], [TRAIN_ROWS, TEST_ROWS]);
    for (const row of latent.classifiers) {
      assert.ok(row.codes < latent.chance + CHANCE_MARGIN, `${row.classifier} on codes: ${row.codes} with shuffled labels (chance ${latent.chance})`);
      assert.ok(row.pixels < latent.chance + CHANCE_MARGIN, `${row.classifier} on pixels: ${row.pixels} (chance ${latent.chance})`);
    }
  });

  it('the leak this removes: the same encoder given each image\'s label puts that label in its code', async () => {
    const target = await loadTarget(cvaeRun);
    try {
      const io = new ModelIo(target, { height: 28, width: 28, channels: 1 });
      const images = (split: 'train' | 'test', n: number) => loadMnist(split, { limit: n }).images;
      const common = { numClasses: 10, seed: 0, classifiers };
      const set = (features: Float32Array, labels: Int32Array, count: number, dim: number) => ({ features, labels: labels.subarray(0, count), count, dim });
      const fed = [await io.encode(images('train', TRAIN_ROWS), TRAIN_ROWS, train), await io.encode(images('test', TEST_ROWS), TEST_ROWS, test)];
      const leaked = await scoreClassifiers(set(fed[0].features, train, TRAIN_ROWS, fed[0].featureSize), set(fed[1].features, test, TEST_ROWS, fed[1].featureSize), common);
      // The shuffled label goes in, and comes back out of a 3-d code.
      for (const score of leaked) assert.ok(score.accuracy > 0.5, `${score.classifier} on label-fed codes: ${score.accuracy}`);
      const row = labelFreeRow(train.subarray(0, TRAIN_ROWS), 10);
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6 && row.every((p) => p > 0.05 && p < 0.15), `class frequencies ${row}`);
      const free = [await io.encode(images('train', TRAIN_ROWS), TRAIN_ROWS, row), await io.encode(images('test', TEST_ROWS), TEST_ROWS, row)];
      const honest = await scoreClassifiers(set(free[0].features, train, TRAIN_ROWS, free[0].featureSize), set(free[1].features, test, TEST_ROWS, free[1].featureSize), common);
      for (const score of honest) assert.ok(score.accuracy < 0.1 + 2 * CHANCE_MARGIN, `${score.classifier} on label-free codes: ${score.accuracy}`);
    } finally {
      await target.release();
    }
  });

  it('an unconditional encoder is given nothing: its codes are encoded once, for the classifiers, the scatter and the reconstructions', async () => {
    const vae = await tinyRun(dir, 'vae', TINY_VAE);
    const stages = new Set<string>();
    const report = await evaluate(vae, { count: 200, metrics: ['latent', 'ssim'], latentTrainCount: 200, latentTestCount: 100, latentClassifiers: ['knn'], onProgress: (e) => stages.add(e.stage) });
    assert.equal(report.latent!.encoderLabel, 'none: the encoder takes no label');
    assert.ok(stages.has('encode test images') && !stages.has('encode test images without labels'), [...stages].join(', '));
    assert.ok(report.figures!.latentScatter && report.figures!.latentScatter.count === 200);
    // The cvae's scatter is drawn from its label-free codes: a second encoding of the test images.
    const cvaeStages = new Set<string>();
    const cvae = await evaluate(cvaeRun, { count: 200, metrics: ['ssim'], onProgress: (e) => cvaeStages.add(e.stage) });
    assert.ok(cvaeStages.has('encode test images') && cvaeStages.has('encode test images without labels'), [...cvaeStages].join(', '));
    assert.equal(cvae.figures!.latentScatter!.count, 200);
  });
});
