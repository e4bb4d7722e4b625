import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../../src/core/errors';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { loadDataset } from '../../src/data';
import { featureStats, frechetDistance } from '../../src/eval/metrics';
import { getFamily } from '../../src/models';
import { Dcgan, defaultUpsamplings, meanPairwiseDistance } from '../../src/models/dcgan';
import type { DataShape } from '../../src/models';
import { loadCheckpoint } from '../../src/run/checkpoint';
import { train } from '../../src/train/trainer';
import { decodePng } from '../../src/core/image-io';
import { exportLayersModel } from '../../src/export/export';
import { artifactMetadata } from '../../src/export/run-export';
import { PROGRESS_GIF } from '../../src/train/progress-gif';
import { TRAINING_FID_METRIC, trainingFid } from '../../src/train/sample-fid';
import { assertExportParity, changedFraction, checkpointWeights, downsampledMnist, gifFrames, registerNanProbe, runRecords } from './helpers';

const MNIST_SHAPE: DataShape = { height: 28, width: 28, channels: 1, numClasses: 10, valueRange: 'symmetric' };

describe('models/dcgan', function () {
  this.timeout(60_000);
  let dir: string;
  let dataset: Awaited<ReturnType<typeof downsampledMnist>>;

  before(async () => {
    await useBackend('wasm');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-dcgan-'));
    dataset = await downsampledMnist(dir, 8, 1000);
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The tutorial's optimiser (lr 2e-4, betas (0.5, 0.999)) on 8x8 MNIST. */
  const config = (name: string, family = 'dcgan', trainSettings: object = {}) => ({
    name,
    outDir: dir,
    model: { family, latentSize: 16, generatorFeatures: 8, discriminatorFeatures: 8 },
    data: { dataset, valueRange: 'symmetric' },
    train: { epochs: 8, batchSize: 32, learningRate: 2e-4, adam: { beta1: 0.5, beta2: 0.999 }, logEvery: 5, seed: 1, validationFraction: 0.1, backend: 'wasm', ...trainSettings },
  });

  it('builds the tutorial stack: 64x64 is 4 -> 8 -> 16 -> 32 -> 64 with 512..64 maps, 28x28 is 7 -> 14 -> 28', () => {
    const family = getFamily('dcgan');
    const defaults = family.configSchema.parse({ family: 'dcgan' });
    assert.deepEqual(defaults, { family: 'dcgan', latentSize: 100, generatorFeatures: 64, discriminatorFeatures: 64 });
    const big = family.build(defaults, { ...MNIST_SHAPE, height: 64, width: 64, channels: 3 }, 1) as Dcgan;
    const mnist = family.build(defaults, MNIST_SHAPE, 1) as Dcgan;
    try {
      const shapes = (m: tf.LayersModel, prefix: string) => m.layers.filter((l) => l.name.startsWith(prefix)).map((l) => (l.outputShape as number[]).slice(1).join('x'));
      assert.deepEqual(shapes(big.parts.generator, 'g_act'), ['4x4x512', '8x8x256', '16x16x128', '32x32x64']);
      assert.deepEqual(shapes(big.parts.generator, 'g_out'), ['64x64x3']);
      assert.deepEqual(shapes(big.parts.discriminator, 'd_act'), ['32x32x64', '16x16x128', '8x8x256', '4x4x512']);
      assert.deepEqual(shapes(mnist.parts.generator, 'g_act'), ['7x7x128', '14x14x64']);
      assert.deepEqual(shapes(mnist.parts.discriminator, 'd_act'), ['14x14x64', '7x7x128']);
      assert.equal(defaultUpsamplings({ ...MNIST_SHAPE, height: 8, width: 8 }), 1);
      // N(0, 0.02) weights and N(1, 0.02) BatchNorm gammas.
      const kernel = Array.from(mnist.parts.generator.getLayer('g_deconv1').getWeights()[0].dataSync());
      const std = Math.sqrt(kernel.reduce((s, v) => s + v * v, 0) / kernel.length);
      assert.ok(Math.abs(std - 0.02) < 0.002, `kernel std ${std}`);
      const gamma = Array.from(mnist.parts.generator.getLayer('g_bn1').getWeights()[0].dataSync());
      assert.ok(Math.abs(gamma.reduce((a, b) => a + b, 0) / gamma.length - 1) < 0.01);
    } finally {
      big.dispose();
      mnist.dispose();
    }
  });

  it('refuses image sizes no stride-2 stack fits, saying which sizes do', () => {
    const family = getFamily('dcgan');
    const build = (config: object, height: number, width: number) => () => family.build(family.configSchema.parse({ family: 'dcgan', ...config }), { ...MNIST_SHAPE, height, width }, 1).dispose();
    // Omniglot's 105x105: odd, so no default depth; the message must not say "divisible by 2^0 = 1".
    assert.throws(build({}, 105, 105), (e: AekitError) => {
      assert.equal(e.code, 'BAD_CONFIG');
      assert.equal(e.message, 'model.upsamplings: dcgan needs an even image height and width of at least 8 pixels (one stride-2 layer or more), found 105x105; resize the data, e.g. --image-size 64x64 (the DCGAN tutorial\'s size)');
      return true;
    });
    assert.throws(build({}, 6, 6), /at least 8 pixels .*found 6x6/);
    assert.throws(build({ upsamplings: 3 }, 28, 28), /: model\.upsamplings: dcgan needs image height and width divisible by 2\^upsamplings = 8, found 28x28; set model\.upsamplings or resize the data$/);
  });

  it("refuses data.valueRange 'unit' with a config error naming the field", async () => {
    await assert.rejects(train({ ...config('unit'), data: { dataset } }), (e: AekitError) => {
      assert.equal(e.code, 'BAD_CONFIG');
      assert.match(e.message, /data\.valueRange 'symmetric'.*found 'unit'/);
      return true;
    });
  });

  it('200 steps: both phases update every part, the pixel FID tracked during training falls, and both parts export with parity', async () => {
    const real = await loadDataset(dataset, 'train', 0);
    const d = 8 * 8;
    const realStats = featureStats(real.images.subarray(0, 500 * d), 500, d);
    const warnings: string[] = [];
    const result = await train(config('train', 'dcgan', { checkpointEvery: 1, stepsPerEpoch: 25 }), {
      logger: { warn: (m) => warnings.push(m), info() {}, debug() {}, error() {} },
      // FID during training, with raw pixels as features (the MNIST classifier's features in real use).
      sampleMetrics: { count: 256, compute: async (s) => ({ pixelFid: frechetDistance(realStats, featureStats(s.images, s.count, d)) }) },
    });
    // 1000 images: 900 in the train split (the IDX pair's 90/10 hold-out), 810 after validation:
    // 26 batches of 32 (the last of 10), capped at 25 per epoch for a run of 200 steps.
    assert.equal(result.steps, 8 * 25);
    const { steps, epochs } = await runRecords(result.runDir);
    for (const key of ['discriminator.total', 'discriminator.dReal', 'discriminator.dFake', 'generator.total', 'generator.diversity']) assert.ok(key in steps[0].terms, key);
    const fids = epochs.map((e) => e.validation.pixelFid);
    assert.ok(fids.at(-1)! < 0.6 * fids[0], `pixel FID should fall by >40%: ${fids.map((f) => f.toFixed(2))}`);
    assert.ok(steps.at(-1)!.terms['discriminator.total'] < Math.log(4) - 0.05, 'the discriminator beats chance (ln 4)');
    for (const key of ['discriminator', 'generator', 'dReal', 'dFake', 'diversity']) assert.ok(Number.isFinite(epochs.at(-1)!.validation[key]), key);
    assert.deepEqual(warnings, [], 'a healthy run gives no mode-collapse warning');

    const [before, after] = [await checkpointWeights(path.join(result.runDir, 'checkpoints', 'epoch-0001')), await checkpointWeights(result.runDir)];
    assert.equal(changedFraction(before.generator, after.generator), 1, 'every generator tensor (BN statistics included) changed');
    assert.equal(changedFraction(before.discriminator, after.discriminator), 1, 'every discriminator tensor changed');
    const manifest = JSON.parse(await fs.readFile(path.join(result.runDir, 'checkpoints', 'epoch-0008', 'checkpoint.json'), 'utf8'));
    assert.deepEqual(manifest.optimizers.map((o: { phase: string; step: number }) => [o.phase, o.step]), [['discriminator', 200], ['generator', 200]], 'one Adam per phase, one update per step each');
    await assertExportParity(result.runDir, path.join(dir, 'train-onnx'), ['generator', 'discriminator']);

    // The training GIF: one frame per epoch grid, at the grids' size.
    const grid = decodePng(await fs.readFile(path.join(result.runDir, 'samples', 'epoch-0008.png')));
    assert.deepEqual(gifFrames(await fs.readFile(path.join(result.runDir, 'samples', PROGRESS_GIF))), { width: grid.width, height: grid.height, frames: 8 });
  });

  it('FID during training with a classifier artifact: 0 for the real images themselves, logged each epoch, shape-checked', async () => {
    // An (untrained) 8x8 classifier exported like the shipped MNIST one: its `features` output is what FID reads.
    const family = getFamily('classifier');
    const classifier = family.build(family.configSchema.parse(family.tinyConfig), { ...MNIST_SHAPE, height: 8, width: 8, valueRange: 'unit' }, 1);
    const file = path.join(dir, 'classifier-8x8.onnx');
    try {
      const names = classifier.ioNames.classifier!;
      const { bytes } = await exportLayersModel(classifier.parts.classifier!, { part: 'classifier', metadata: artifactMetadata(classifier, 'fid-test', 'fixture'), inputNames: names.inputs, outputNames: names.outputs });
      await fs.writeFile(file, bytes);
    } finally {
      classifier.dispose();
    }
    const fid = await trainingFid(config('fid'), { classifier: file, samples: 64, realImages: 64 });
    try {
      const real = await loadDataset(dataset, 'test', 1);
      const same = await fid.compute({ images: real.images.subarray(0, 64 * 64), count: 64, height: 8, width: 8, channels: 1 });
      assert.ok(Math.abs(same[TRAINING_FID_METRIC]) < 1e-3, `FID of the reference images themselves: ${same[TRAINING_FID_METRIC]}`);
      // Deterministic uniform-looking noise in [0, 1) (the classic sin-hash).
      const noise = Float32Array.from({ length: 64 * 64 }, (_, i) => Math.abs((Math.sin(i * 12.9898) * 43758.5453) % 1));
      const far = await fid.compute({ images: noise, count: 64, height: 8, width: 8, channels: 1 });
      assert.ok(far[TRAINING_FID_METRIC] > 1e-2, `noise is far from digits: ${far[TRAINING_FID_METRIC]}`);
      const result = await train(config('fid', 'dcgan', { epochs: 2, stepsPerEpoch: 3 }), { sampleMetrics: fid });
      const fids = (await runRecords(result.runDir)).epochs.map((e) => e.validation[TRAINING_FID_METRIC]);
      assert.equal(fids.length, 2);
      assert.ok(fids.every((v) => Number.isFinite(v) && v > 0), `FID per epoch ${fids}`);
    } finally {
      await fid.release();
    }
    await assert.rejects(trainingFid(config('fid'), { classifier: path.join(dir, 'missing.onnx') }), (e: AekitError) => e.code === 'FILE_NOT_FOUND' && e.where === path.join(dir, 'missing.onnx'));
    await assert.rejects(trainingFid({ ...config('fid-28'), data: { dataset: { name: 'mnist', limit: 20 }, valueRange: 'symmetric' } }, { classifier: file }), (e: AekitError) => {
      assert.equal(e.code, 'BAD_ARGUMENT');
      assert.match(e.where ?? '', /aekit\.imageShape\.height/);
      return true;
    });
  });

  it('warns of mode collapse when diversity falls under half its best', () => {
    const model = getFamily('dcgan').build(getFamily('dcgan').configSchema.parse(getFamily('dcgan').tinyConfig), { ...MNIST_SHAPE, height: 8, width: 8 }, 1) as Dcgan;
    try {
      const epoch = (diversity: number) => model.epochWarnings({ train: {}, validation: { diversity } });
      assert.deepEqual([epoch(0.2), epoch(0.6), epoch(0.5), epoch(0.9)].flat(), [], 'untrained generators start undiverse; rises are fine');
      const [warning] = epoch(0.3);
      assert.match(warning, /mode collapse.*0\.30x.*down from 0\.90/);
      assert.deepEqual(model.epochWarnings({ train: { 'generator.diversity': 0.1 }, validation: {} }).length, 1, 'uses the training diversity without validation');
      tf.tidy(() => {
        const same = tf.ones([6, 8, 8, 1]);
        assert.equal(meanPairwiseDistance(same).dataSync()[0], 0);
        const two = tf.tensor4d([0, 0, 3, 4], [2, 1, 1, 2]);
        assert.ok(Math.abs(meanPairwiseDistance(two).dataSync()[0] - 5) < 1e-5);
      });
    } finally {
      model.dispose();
    }
  });

  it("a NaN in the generator phase stops the run cleanly with the last good checkpoint; epoch warnings are logged", async () => {
    // 25 steps per epoch (810 training images / 32, capped at 25); the NaN comes at global step 30, in epoch 2.
    const probe = registerNanProbe('dcgan', 'generator', 30);
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m), info() {}, debug() {}, error() {} };
    await assert.rejects(train(config('nan', probe, { checkpointEvery: 1, stepsPerEpoch: 25 }), { logger }), (e: AekitError) => {
      assert.equal(e.code, 'NON_FINITE_LOSS');
      assert.match(e.message, /step 30 \(epoch 2\): loss term 'generator\.total' is NaN/);
      assert.match(e.message, /after this step's 'discriminator' update/);
      assert.match(e.message, /last-good/);
      return true;
    });
    assert.deepEqual(warnings, ['epoch 1: probe warning']);
    const lastGood = path.join(dir, 'nan', 'checkpoints', 'last-good');
    const loaded = await loadCheckpoint(lastGood);
    try {
      assert.equal(loaded.model.config.family, 'dcgan', 'the last good checkpoint loads as a plain dcgan');
      assert.deepEqual(loaded.trainer, { epoch: 1, stepInEpoch: 5, step: 30, reason: 'last-good' });
      assert.deepEqual(Object.values(loaded.optimizers).map((o) => o.step), [31, 30], "step 30's discriminator update was applied, its generator update was not");
    } finally {
      loaded.model.dispose();
    }
    const weights = await checkpointWeights(lastGood);
    for (const part of Object.values(weights)) assert.ok(part.every((w) => w.every(Number.isFinite)), 'saved weights are finite');
  });
});
