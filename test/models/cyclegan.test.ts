import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../../src/core/errors';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { loadDataset } from '../../src/data';
import { getFamily } from '../../src/models';
import { CycleGan } from '../../src/models/cyclegan';
import { loadCheckpoint } from '../../src/run/checkpoint';
import { train } from '../../src/train/trainer';
import { decodePng } from '../../src/core/image-io';
import { PROGRESS_GIF } from '../../src/train/progress-gif';
import { assertExportParity, changedFraction, checkpointWeights, firstAndLast, gifFrames, registerNanProbe, runRecords, tintedMnistFolder } from './helpers';

/** Share of the red channel in the total intensity of images in [-1, 1] (warm digits ~0.67, cool ~0.13). */
function redShare(images: tf.Tensor4D): number {
  return tf.tidy(() => {
    const [r, g, b] = tf.split(tf.div(tf.add(images, 1), 2), 3, 3);
    return tf.div(tf.sum(r), tf.addN([tf.sum(r), tf.sum(g), tf.sum(b)])).dataSync()[0];
  });
}

describe('models/cyclegan', function () {
  this.timeout(90_000);
  let dir: string;
  let warm: Awaited<ReturnType<typeof tintedMnistFolder>>;
  let cool: Awaited<ReturnType<typeof tintedMnistFolder>>;

  before(async () => {
    await useBackend('wasm');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-cyclegan-'));
    // Coloured MNIST at 8x8: domain A warm, domain B cool, tinted with different draws.
    warm = await tintedMnistFolder(dir, 'warm', 8, 400, 1);
    cool = await tintedMnistFolder(dir, 'cool', 8, 400, 2);
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const config = (name: string, family = 'cyclegan', trainSettings: object = {}, model: object = {}) => ({
    name,
    outDir: dir,
    model: { family, domainB: cool, filters: 4, downsamplings: 1, residualBlocks: 1, discriminatorFilters: 4, discriminatorLayers: 1, lambdaIdentity: 0, ...model },
    data: { dataset: warm, valueRange: 'symmetric' },
    train: { epochs: 3, stepsPerEpoch: 20, batchSize: 8, learningRate: 2e-4, adam: { beta1: 0.5 }, logEvery: 2, seed: 1, validationFraction: 0.1, checkpointEvery: 1, backend: 'wasm', ...trainSettings },
  });

  it('60 steps: the cycle loss falls, both phases update all four networks, warm digits turn cool (and back), all parts export with parity', async () => {
    const result = await train(config('train'));
    const { steps, epochs } = await runRecords(result.runDir);
    const [first, last] = firstAndLast(steps, 'generators.cycle', 3);
    assert.ok(last < 0.6 * first, `cycle L1 should fall by >40%: ${first} -> ${last}`);
    for (const key of ['generators.adversarial', 'discriminators.discriminatorA', 'discriminators.discriminatorB']) assert.ok(Number.isFinite(steps.at(-1)!.terms[key]), key);
    assert.ok(epochs.at(-1)!.validation.cycle < epochs[0].validation.cycle, 'validation cycle loss improves');

    const [before, after] = [await checkpointWeights(path.join(result.runDir, 'checkpoints', 'epoch-0001')), await checkpointWeights(result.runDir)];
    for (const part of ['generatorAB', 'generatorBA', 'discriminatorA', 'discriminatorB']) assert.equal(changedFraction(before[part], after[part]), 1, `${part} updated`);

    const loaded = await loadCheckpoint(result.runDir);
    try {
      const [a, b] = [await loadDataset(warm, 'test', 1), await loadDataset(cool, 'test', 1)];
      tf.tidy(() => {
        const toSymmetric = (images: Float32Array, n: number) => tf.sub(tf.mul(tf.tensor4d(images, [n, 8, 8, 3]), 2), 1) as tf.Tensor4D;
        const [xa, xb] = [toSymmetric(a.images, a.count), toSymmetric(b.images, b.count)];
        const model = loaded.model as CycleGan;
        const [shareA, shareB] = [redShare(xa), redShare(xb)];
        const [shareAB, shareBA] = [redShare(model.translate(xa, 'AB')), redShare(model.translate(xb, 'BA'))];
        assert.ok(shareA > 0.6 && shareB < 0.2, `domains: red share A ${shareA}, B ${shareB}`);
        assert.ok(shareAB < shareA - 0.15, `A -> B should lose red: ${shareA} -> ${shareAB}`);
        assert.ok(shareBA > shareB + 0.1, `B -> A should gain red: ${shareB} -> ${shareBA}`);
      });
    } finally {
      loaded.model.dispose();
    }
    await assertExportParity(result.runDir, path.join(dir, 'onnx'), ['generatorAB', 'generatorBA', 'discriminatorA', 'discriminatorB']);

    // Sample grids: rows A, A -> B, B, B -> A of 8 images (8x8 at scale 2, 2-pixel gaps), one GIF frame per epoch.
    const grid = decodePng(await fs.readFile(path.join(result.runDir, 'samples', 'epoch-0003.png')));
    assert.deepEqual([grid.width, grid.height], [8 * 16 + 9 * 2, 4 * 16 + 5 * 2]);
    const rowRedShare = (row: number) => {
      let [red, all] = [0, 0];
      for (let y = 2 + row * 18; y < 2 + row * 18 + 16; y++) {
        for (let x = 0; x < grid.width; x++) {
          const i = 4 * (y * grid.width + x);
          if (grid.rgba[i] === 255 && grid.rgba[i + 1] === 255 && grid.rgba[i + 2] === 255) continue; // white gaps
          red += grid.rgba[i];
          all += grid.rgba[i] + grid.rgba[i + 1] + grid.rgba[i + 2];
        }
      }
      return red / all;
    };
    assert.ok(rowRedShare(1) < rowRedShare(0) && rowRedShare(3) > rowRedShare(2), 'the grid shows the translations');
    assert.equal(gifFrames(await fs.readFile(path.join(result.runDir, 'samples', PROGRESS_GIF))).frames, 3);
  });

  it('resuming mid-run replays the same domain-B batches (bit-identical weights)', async () => {
    const short = { epochs: 2, stepsPerEpoch: 3, validationFraction: 0 };
    const whole = await train(config('whole', 'cyclegan', short));
    await train(config('split', 'cyclegan', { ...short, epochs: 1 }));
    const resumed = await train(config('split', 'cyclegan', short), { resume: true });
    const tensors = (run: string) => fs.readFile(path.join(run, 'checkpoints', 'epoch-0002', 'tensors.bin'));
    assert.ok((await tensors(whole.runDir)).equals(await tensors(resumed.runDir)));
  });

  it('a NaN in the discriminator phase stops cleanly with the last good checkpoint', async () => {
    const probe = registerNanProbe('cyclegan', 'discriminators', 4);
    await assert.rejects(train(config('nan', probe, { epochs: 2, stepsPerEpoch: 3, validationFraction: 0 })), (e: AekitError) => {
      assert.equal(e.code, 'NON_FINITE_LOSS');
      assert.match(e.message, /step 4 \(epoch 2\): loss term 'discriminators\.total' is NaN.*after this step's 'generators' update.*last-good/);
      return true;
    });
    const loaded = await loadCheckpoint(path.join(dir, 'nan', 'checkpoints', 'last-good'));
    try {
      assert.equal(loaded.model.config.family, 'cyclegan');
      assert.deepEqual(loaded.trainer, { epoch: 1, stepInEpoch: 1, step: 4, reason: 'last-good' });
    } finally {
      loaded.model.dispose();
    }
    for (const part of Object.values(await checkpointWeights(path.join(dir, 'nan', 'checkpoints', 'last-good')))) assert.ok(part.every((w) => w.every(Number.isFinite)));
  });

  it('trains on the colored-mnist dataset with warm and cool colour sets as the two domains', async () => {
    const result = await train({
      name: 'colored-mnist',
      outDir: dir,
      model: { family: 'cyclegan', domainB: { name: 'colored-mnist', colors: 'cool', limit: 64 }, filters: 2, downsamplings: 1, residualBlocks: 0, discriminatorFilters: 2, discriminatorLayers: 1 },
      data: { dataset: { name: 'colored-mnist', colors: 'warm', limit: 64 }, valueRange: 'symmetric' },
      train: { epochs: 1, stepsPerEpoch: 2, batchSize: 4, validationFraction: 0, backend: 'wasm' },
    });
    assert.equal(result.steps, 2);
    const { steps } = await runRecords(result.runDir);
    assert.equal(steps.length, 0, 'logEvery 20 > 2 steps');
  });

  it('rejects a domain B whose images differ in shape, naming model.domainB', async () => {
    await assert.rejects(train({ ...config('mismatch'), model: { ...config('mismatch').model, domainB: { name: 'mnist', limit: 50 } } }), (e: AekitError) => {
      assert.equal(e.code, 'BAD_CONFIG');
      assert.equal(e.where, 'model.domainB');
      assert.match(e.message, /28x28x1.*8x8x3/);
      return true;
    });
  });

  it('needs a second-domain batch, and names both parts per direction', () => {
    const family = getFamily('cyclegan');
    const model = family.build(family.configSchema.parse(family.tinyConfig), { height: 8, width: 8, channels: 3, numClasses: 0, valueRange: 'symmetric' }, 1) as CycleGan;
    try {
      tf.tidy(() => {
        const x = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
        assert.deepEqual(model.translate(x, 'AB').shape, [2, 8, 8, 3]);
        assert.deepEqual((model.parts.discriminatorA.predict(x) as tf.Tensor).shape.slice(-1), [1]);
        assert.throws(() => model.phases[0].loss({ x, labels: tf.zeros([2], 'int32') as tf.Tensor1D, oneHot: tf.zeros([2, 0]) as tf.Tensor2D, size: 2 }, { step: 0, epoch: 0, seed: 1, beta: 1 }), /TrainBatch\.xB/);
      });
      assert.deepEqual(model.ioNames.generatorAB, { inputs: ['image'], outputs: ['translated'] });
    } finally {
      model.dispose();
    }
  });
});
