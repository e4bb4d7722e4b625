/**
 * A run's data at the edges: one-hot rows of unlabelled and one-class sets, splits that a fraction
 * of a tiny set leaves empty or at one or two images, and a flat folder of images (one class) that
 * a GAN trains and validates on, on both engines.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import type { Logger } from '../../src/core/log';
import { Rng } from '../../src/core/rng';
import { familyNames, getFamily } from '../../src/models';
import { resolveRunConfig } from '../../src/run/config';
import { RunFolder } from '../../src/run/run-folder';
import type { EpochRecord } from '../../src/run/run-folder';
import { oneHotRows, prepareData } from '../../src/train/data';
import { train } from '../../src/train/trainer';

let outDir: string;

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, error() {}, warn: (m) => warnings.push(m), info() {}, debug() {} };
}

/** `count` seeded RGB noise PNGs of size x size directly in `dir` (a flat folder: one class). */
async function flatFolder(dir: string, count: number, size: number): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const rng = new Rng(5);
  for (let i = 0; i < count; i++) {
    const png = new PNG({ width: size, height: size });
    for (let p = 0; p < size * size; p++) png.data.set([rng.int(256), rng.int(256), rng.int(256), 255], p * 4);
    await fs.writeFile(path.join(dir, `face-${i}.png`), PNG.sync.write(png));
  }
}

/** The tiny config of a family on MNIST-like data of `limit` images (cyclegan: both colour domains). */
function tinyRun(family: string, limit: number): { model: Record<string, unknown>; data: Record<string, unknown> } {
  const { tinyConfig, valueRange } = getFamily(family);
  const range = valueRange ? { valueRange } : {};
  if (tinyConfig.domainB) {
    return { model: { ...tinyConfig, domainB: { name: 'colored-mnist', colors: 'cool', limit } }, data: { dataset: { name: 'colored-mnist', colors: 'warm', limit }, ...range } };
  }
  return { model: tinyConfig, data: { dataset: { name: 'mnist', limit }, ...range } };
}

describe('train/data: tiny sets, tiny splits, one class', function () {
  this.timeout(300_000);

  before(async () => {
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-train-data-'));
  });
  after(async () => {
    await fs.rm(outDir, { recursive: true, force: true });
  });

  it('builds one-hot rows without a lower limit on the class count', () => {
    assert.deepEqual([...oneHotRows(Int32Array.of(2, 0, 1), 3)], [0, 0, 1, 1, 0, 0, 0, 1, 0]);
    // Unlabelled rows (-1) count as class 0, as they always did.
    assert.deepEqual([...oneHotRows(Int32Array.of(-1, 1), 2)], [1, 0, 0, 1]);
    // One class (a flat folder): rows of ones. No classes: an empty [B, 0].
    assert.deepEqual([...oneHotRows(Int32Array.of(0, -1, 0), 1)], [1, 1, 1]);
    assert.equal(oneHotRows(Int32Array.of(-1, -1), 0).length, 0);
  });

  it('notes a validation or test split that a fraction of a tiny set leaves empty', async () => {
    const config = (limit: number) => resolveRunConfig({ name: 'x', model: { family: 'vae' }, data: { dataset: { name: 'mnist', limit } }, train: { validationFraction: 0.1, testFraction: 0.1 } });
    const five = await prepareData(config(5));
    assert.equal(five.validation, undefined);
    assert.equal(five.test, undefined);
    assert.equal(five.train.count, 5, 'all images train');
    assert.deepEqual(five.notes, [
      'train.validationFraction 0.1 of 5 images is no image: validation is skipped (no validation metrics; sample grids show training images)',
      'train.testFraction 0.1 of 5 images is no image: there is no test split',
    ]);
    const eleven = await prepareData(config(11));
    assert.deepEqual([eleven.train.count, eleven.validation?.count, eleven.test?.count], [9, 1, 1]);
    assert.deepEqual(eleven.notes, []);
  });

  for (const family of familyNames()) {
    it(`${family}: validation splits of 0, 1 and 2 images (test splits too) train and validate`, async () => {
      // 5 images: both splits empty; 11: one image each; 21: two each.
      for (const [limit, held] of [[5, 0], [11, 1], [21, 2]] as const) {
        const { model, data } = tinyRun(family, limit);
        const logger = recordingLogger();
        const result = await train({ name: `${family}-${limit}`, outDir, model, data, train: { epochs: 1, batchSize: 4, stepsPerEpoch: 2, validationFraction: 0.1, testFraction: 0.1, backend: 'wasm' } }, { logger });
        const epochs = (await new RunFolder(result.runDir).readMetrics()).filter((r): r is EpochRecord => r.kind === 'epoch');
        assert.equal(epochs.length, 1, `${limit} images`);
        const validation = Object.values(epochs[0].validation);
        if (held === 0) {
          assert.deepEqual(validation, [], 'validation skipped');
          assert.ok(logger.warnings.some((w) => w.includes('validation is skipped')), logger.warnings.join('\n'));
        } else {
          assert.ok(validation.length > 0 && validation.every(Number.isFinite), `${limit} images (${held} held out): ${JSON.stringify(epochs[0].validation)}`);
        }
      }
    });
  }

  it('a flat folder of 40 RGB images (one class) trains a DCGAN with the default batch and validates it, on both engines', async () => {
    const folder = path.join(outDir, 'cats');
    await flatFolder(folder, 40, 32);
    for (const engine of ['ort', 'tfjs']) {
      const logger = recordingLogger();
      const result = await train(
        {
          name: `dcgan-flat-${engine}`,
          outDir,
          model: getFamily('dcgan').tinyConfig,
          data: { dataset: { name: 'folder', path: folder, height: 32, width: 32, channels: 3 }, valueRange: 'symmetric' },
          train: { epochs: 2, engine, backend: 'wasm' },
        },
        { logger },
      );
      assert.equal(result.engine, engine);
      assert.equal(result.epochsDone, 2);
      assert.ok(logger.warnings.some((w) => /^train\.batchSize is 128 but the training split has (\d+) images: training on batches of \1 \(one step per epoch\)$/.test(w)), logger.warnings.join('\n'));
      assert.ok(Object.values(result.lastEpoch!.validation).every(Number.isFinite), JSON.stringify(result.lastEpoch!.validation));
      assert.ok('dReal' in result.lastEpoch!.validation);
      const info = JSON.parse(await fs.readFile(new RunFolder(result.runDir).runInfoPath, 'utf8'));
      assert.equal(info.status, 'finished');
    }
  });

  it('prepareData refuses a family that needs labels on unlabelled data, for library callers too (train() without the CLI)', async () => {
    const flat = path.resolve(__dirname, '..', '..', 'fixtures', 'data', 'flat-rgb');
    const config = resolveRunConfig({
      name: 'cvae-flat',
      outDir,
      model: { family: 'cvae', architecture: 'mlp', hiddenSizes: [8], latentSize: 2 },
      data: { dataset: { name: 'folder', path: flat, height: 8, width: 8, channels: 1 } },
      train: { epochs: 1, backend: 'wasm' },
    });
    await assert.rejects(prepareData(config), { code: 'BAD_DATA', message: /model family 'cvae' .* is unlabelled/ });
    await assert.rejects(train(config), { code: 'BAD_DATA' });
  });
});
