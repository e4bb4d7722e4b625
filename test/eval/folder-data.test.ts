import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePng } from '../../src/core/image-io';
import { HOLDOUT_FRACTIONS } from '../../src/data/registry';
import { splitIndices } from '../../src/data/split';
import { REPORT_FILES, evaluate, formatReportTable, writeReport } from '../../src/eval';
import { rejectsWith, TINY_AE, tinyClassifier, tinyRun } from './helpers';

const OMNIGLOT_MINI = path.resolve(__dirname, '..', '..', 'fixtures', 'omniglot-mini');
/** Images in fixtures/omniglot-mini (2 alphabets x 3 characters x 4 drawings). */
const OMNIGLOT_MINI_COUNT = 24;
/** The runs' training seed, not eval's default 0, to show that eval splits the folder with the run's. */
const RUN_SEED = 3;
const LATENT = { latentClassifiers: ['knn'] as const };

describe('eval: an image folder as the data set; data FID cannot score', function () {
  this.timeout(120_000);
  let dir: string;
  let classifier: string;
  let run: string;
  let loose: string;

  const folder = (size: number) => ({ dataset: { name: 'folder', path: OMNIGLOT_MINI, height: size, width: size, channels: 1 } });

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-eval-folder-'));
    classifier = await tinyClassifier(dir);
    run = await tinyRun(dir, 'omniglot-ae', TINY_AE, folder(28), { epochs: 2, batchSize: 8, seed: RUN_SEED });
    // The artifacts alone: no run config to name the data.
    loose = path.join(dir, 'loose');
    await fs.cp(path.join(run, 'onnx'), loose, { recursive: true });
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('data: the folder\'s seeded hold-out is the test set of FID, SSIM, PSNR and the latent classifiers', async () => {
    const cacheDir = path.join(dir, 'cache');
    const report = await evaluate(loose, { data: OMNIGLOT_MINI, seed: RUN_SEED, classifier, cacheDir, ...LATENT });
    const [trainPart, testPart] = splitIndices(OMNIGLOT_MINI_COUNT, [...HOLDOUT_FRACTIONS], RUN_SEED);
    assert.deepEqual(report.dataset, { spec: { name: 'folder', path: OMNIGLOT_MINI, height: 28, width: 28, channels: 1 }, height: 28, width: 28, channels: 1, testCount: testPart.length, trainCount: trainPart.length, seed: RUN_SEED });
    assert.equal(report.count, testPart.length);
    assert.deepEqual(report.skipped, []);
    const fid = report.fid!;
    for (const value of [fid.samples!, fid.reconstructions!, fid.trainVsTest]) assert.ok(Number.isFinite(value) && value >= 0, JSON.stringify(fid));
    assert.equal(fid.prior, 'fitted-gaussian');
    assert.ok(report.ssim!.mean > -1 && report.ssim!.mean <= 1 && Number.isFinite(report.psnr!.mean));
    // The classifiers train on every training image of the folder, not only `count` of them.
    assert.deepEqual([report.latent!.trainCount, report.latent!.testCount, report.latent!.codeSize], [trainPart.length, testPart.length, 4]);
    assert.match(formatReportTable(report), new RegExp(`^ae \\(omniglot-ae\\) on ${OMNIGLOT_MINI.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    // Two test codes of 4 dimensions: too few for a PCA projection, so no scatter (and no error).
    assert.equal(report.figures!.latentScatter, undefined);
    // Fewer pairs than a grid row: one column per pair (28x28 at scale 2, 2-pixel gaps).
    await writeReport(path.join(dir, 'report'), report);
    const pairs = decodePng(await fs.readFile(path.join(dir, 'report', REPORT_FILES.reconstructions)));
    assert.deepEqual([pairs.width, pairs.height], [2 * 56 + 3 * 2, 2 * 56 + 3 * 2]);

    // The run folder evaluates on its own dataset, the same folder, split with the run's seed (not
    // eval's seed 0): the same test images, so the same reconstruction figures.
    const own = await evaluate(run, { classifier, cacheDir, metrics: ['ssim', 'psnr', 'fid'], figures: false });
    assert.equal(own.dataset.seed, RUN_SEED);
    assert.deepEqual([own.ssim!.mean, own.psnr!.mean, own.fid!.reconstructions], [report.ssim!.mean, report.psnr!.mean, fid.reconstructions]);
    assert.equal(own.fid!.reference.cached, true, 'the same folder split: the cached test statistics');
  });

  it('FID on images no shipped network takes: skipped with the reason by default, an error when asked for', async () => {
    const small = await tinyRun(dir, 'omniglot-16', TINY_AE, folder(16), { batchSize: 8 });
    const report = await evaluate(small, { classifier, ...LATENT, figures: false });
    assert.equal(report.fid, undefined);
    assert.equal(report.kid, undefined);
    assert.ok(report.ssim && report.psnr && report.latent, 'the other metrics are computed');
    // KID needs the same features: skipped with FID, for the same reason.
    assert.deepEqual(report.skipped.map((s) => s.metric), ['fid', 'kid']);
    assert.equal(report.skipped[1].reason, report.skipped[0].reason);
    assert.match(report.skipped[0].reason, /^FID's feature network \(.*classifier\.onnx\) takes 28x28x1 images and the model's are 16x16x1; pass a feature network for images of this shape with --features$/);
    assert.match(formatReportTable(report), /skipped fid: FID's feature network/);
    await rejectsWith(evaluate(small, { classifier, metrics: ['fid'] }), 'BAD_ARGUMENT', /--fid does not apply: FID's feature network \(.*\) takes 28x28x1 images and the model's are 16x16x1/);
    await rejectsWith(evaluate(small, { features: classifier, metrics: ['kid'] }), 'BAD_ARGUMENT', /--kid does not apply: FID's feature network \(.*\) takes 28x28x1 images/);
    // No shipped network takes 16x16x1 (known whether or not models/ is installed): the reason says how to make one.
    const shipped = await evaluate(small, { ...LATENT, figures: false });
    assert.match(shipped.skipped[0].reason, /^no feature network for 16x16x1 images ships with aekit \(it ships 28x28x1 \(aekit's MNIST classifier\) and 28x28x3 \(aekit's coloured-MNIST classifier\)\); pass one with --features, e\.g\. pytorch-fid's InceptionV3 as ONNX, made with `python3 scripts\/pytorch-fid-to-onnx\.py --out inception\.onnx` \(see docs\/fid\.md\)$/);
    // Colour images of MNIST's size (as coloured MNIST's) against an MNIST classifier: the channels differ.
    const rgb = await tinyRun(dir, 'omniglot-rgb', TINY_AE, { dataset: { ...folder(28).dataset, channels: 3 } }, { batchSize: 8 });
    const coloured = await evaluate(rgb, { classifier, metrics: [], figures: false });
    assert.deepEqual(coloured.skipped.map((s) => s.metric), ['fid', 'kid']);
    assert.match(coloured.skipped[0].reason, /takes 28x28x1 images and the model's are 28x28x3/);
  });

  it('tiny folders: no test image is an error saying why; one test image skips FID and KID with the reason', async () => {
    // 5 and 15 drawings of the folder: the 10% hold-out gives 0 and 1 test images.
    const pick = async (name: string, count: number) => {
      const root = path.join(dir, name);
      const files = (await fs.readdir(OMNIGLOT_MINI, { recursive: true })).filter((f) => f.endsWith('.png')).sort().slice(0, count);
      for (const file of files) await fs.cp(path.join(OMNIGLOT_MINI, file), path.join(root, file));
      return root;
    };
    const five = await pick('five', 5);
    await rejectsWith(
      evaluate(loose, { data: five, classifier, ...LATENT }),
      'BAD_DATA',
      new RegExp(`^${five}: no test images to evaluate on: the 10% of its 5 images held out for testing is none \\(10 images or more leave one\\); give more images, or evaluate on other images \\(--data <folder>, --dataset, --idx\\)$`),
    );
    const fifteen = await pick('fifteen', 15);
    const report = await evaluate(loose, { data: fifteen, classifier, ...LATENT, figures: false });
    assert.equal(report.dataset.testCount, 1);
    assert.deepEqual(report.skipped, ['fid', 'kid'].map((metric) => ({ metric, reason: `FID and KID need at least 2 images per side, and ${fifteen} has 1 test image and 14 training images` })));
    assert.ok(report.ssim && report.psnr, 'the metrics one image gives are computed');
    await rejectsWith(evaluate(loose, { data: fifteen, classifier, metrics: ['fid'] }), 'BAD_ARGUMENT', /--fid does not apply: FID and KID need at least 2 images per side/);
  });

  it('bad input: a folder and a dataset together, a missing folder', async () => {
    await rejectsWith(evaluate(loose, { data: OMNIGLOT_MINI, dataset: { name: 'mnist' } }), 'BAD_ARGUMENT', /give a dataset \(--dataset mnist\) or an image folder \(--data .*omniglot-mini\), not both/);
    await rejectsWith(evaluate(loose, { data: path.join(dir, 'no-such-folder'), metrics: ['psnr'] }), 'FILE_NOT_FOUND', /image folder not found/);
  });
});
