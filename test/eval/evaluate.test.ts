import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePng } from '../../src/core/image-io';
import { Rng } from '../../src/core/rng';
import { loadMnist } from '../../src/data';
import { evaluate, REPORT_FILES, reportJson, writeReport } from '../../src/eval';
import { existsSync } from 'node:fs';
import { DEFAULT_FID_CLASSIFIER, FidFeatureNet, dataStats } from '../../src/eval/fid-features';
import { frechetDistance, featureStats } from '../../src/eval/metrics';
import { getFamily } from '../../src/models';
import { readMetadata, writeMetadata } from '../../src/artifact/onnx-io';
import { rejectsWith, TINY_AE, TINY_VAE, tinyClassifier, tinyRun } from './helpers';

/** Images per comparison in these tests: enough for stable statistics of 16 features. */
const N = 200;

/** Cheap latent-classifier settings: the forest and k-NN only, on a few hundred rows. */
const LATENT = { latentTrainCount: 300, latentTestCount: 200, latentClassifiers: ['knn', 'random-forest'] as const };

describe('eval: evaluate() end to end on onnxruntime', function () {
  let dir: string;
  let classifier: string;
  let vaeRun: string;
  let aeRun: string;
  let cvaeRun: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-eval-'));
    classifier = await tinyClassifier(dir);
    vaeRun = await tinyRun(dir, 'vae', TINY_VAE);
    aeRun = await tinyRun(dir, 'ae', TINY_AE);
    cvaeRun = await tinyRun(dir, 'cvae', getFamily('cvae').tinyConfig);
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function realAndNoiseFid(file: string): Promise<{ real: number; fake: number; featureSize: number }> {
    const net = await FidFeatureNet.load(file);
    try {
      const test = loadMnist('test', { limit: N });
      const train = loadMnist('train', { limit: N });
      const noise = new Rng(1).normalArray(N * 28 * 28).map((v) => Math.min(1, Math.max(0, 0.5 + 0.3 * v)));
      const [a, b, c] = await Promise.all([dataStats(net, test.images, N), dataStats(net, train.images, N), dataStats(net, noise, N)]);
      assert.equal(frechetDistance(a, a) < 1e-6, true);
      return { real: frechetDistance(a, b), fake: frechetDistance(c, a), featureSize: net.featureSize };
    } finally {
      await net.release();
    }
  }

  it('FID features: real vs real is near 0, noise vs real is large', async () => {
    const { real, fake } = await realAndNoiseFid(classifier);
    assert.ok(real >= 0 && fake > 10 * real, `real-vs-real ${real}, noise-vs-real ${fake}`);
  });

  it('the shipped MNIST classifier: 128 features that tell digits from noise, >= 99.0% on the whole MNIST test set', async () => {
    // The artifact is trained by experiments/mnist-classifier.json and shipped under models/.
    assert.ok(existsSync(DEFAULT_FID_CLASSIFIER), `${DEFAULT_FID_CLASSIFIER} is missing`);
    const { real, fake, featureSize } = await realAndNoiseFid(DEFAULT_FID_CLASSIFIER);
    assert.equal(featureSize, 128);
    // FID is biased upwards at 200 images of 128 features (real vs real ~100 here, ~4 at 10,000).
    assert.ok(fake > 10 * real, `real-vs-real ${real}, noise-vs-real ${fake}`);
    const report = await evaluate(DEFAULT_FID_CLASSIFIER, {});
    assert.equal(report.accuracy!.count, 10_000);
    assert.ok(report.accuracy!.mean >= 0.99, `test accuracy ${report.accuracy!.mean}`);
  });

  it('a VAE run: every metric, reference statistics cached by classifier hash, report files', async () => {
    const cacheDir = path.join(dir, 'cache');
    const events: string[] = [];
    const report = await evaluate(vaeRun, { count: N, classifier, cacheDir, elboCount: 20, iwaeSamples: 8, ...LATENT, onProgress: (e) => events.push(e.stage) });
    assert.deepEqual(report.skipped, []);
    assert.equal(report.target.family, 'vae');
    assert.deepEqual(Object.keys(report.target.parts).sort(), ['decoder', 'encoder']);
    const fid = report.fid!;
    assert.equal(fid.count, N);
    assert.equal(fid.prior, 'standard-normal');
    for (const value of [fid.samples!, fid.reconstructions!, fid.trainVsTest]) assert.ok(Number.isFinite(value) && value >= 0, String(value));
    // One epoch on 300 images: samples and reconstructions are far from real digits.
    assert.ok(fid.samples! > fid.trainVsTest && fid.reconstructions! > fid.trainVsTest, JSON.stringify(fid));
    assert.equal(fid.reference.cached, false);
    assert.ok(report.ssim!.mean > -1 && report.ssim!.mean < 1);
    assert.ok(Number.isFinite(report.psnr!.mean));
    const elbo = report.elbo!;
    assert.equal(elbo.samples, 8);
    assert.ok(elbo.kl >= 0 && elbo.reconstruction < 0);
    assert.ok(Math.abs(elbo.elbo - (elbo.reconstruction - elbo.kl)) < 1e-9);
    assert.deepEqual(report.latent!.classifiers.map((c) => c.classifier), ['knn', 'random-forest']);
    // Pixels of MNIST digits: any classifier beats always guessing the majority class.
    for (const c of report.latent!.classifiers) assert.ok(c.pixels > report.latent!.chance + 0.3, JSON.stringify(c));
    assert.ok(events.includes('encode test images') && events.includes('elbo'));

    // The cache entry is keyed by the classifier's SHA-256 and read back on the next run.
    const entry = JSON.parse(await fs.readFile(fid.reference.cacheFile, 'utf8'));
    assert.equal(entry.classifierSha256, fid.classifier.sha256);
    const again = await evaluate(path.join(vaeRun, 'onnx'), { count: N, classifier, cacheDir, metrics: ['fid'], figures: false });
    assert.equal(again.fid!.reference.cached, true);
    assert.equal(again.fid!.reconstructions, fid.reconstructions);
    assert.equal(again.fid!.samples, fid.samples, 'the same seed draws the same samples');

    const out = path.join(dir, 'report');
    const files = await writeReport(out, report);
    const names = files.map((f) => path.basename(f)).sort();
    // Every file but the translations of a translation model.
    assert.deepEqual(names, Object.values(REPORT_FILES).filter((f) => f !== REPORT_FILES.translations).sort());
    for (const file of files.filter((f) => f.endsWith('.png'))) {
      const png = decodePng(await fs.readFile(file));
      assert.ok(png.width > 28 && png.height > 28, file);
    }
    const json = JSON.parse(await fs.readFile(path.join(out, REPORT_FILES.json), 'utf8'));
    assert.deepEqual(json, JSON.parse(JSON.stringify(reportJson(report))));
    assert.equal(json.figures, undefined);
    assert.match(await fs.readFile(path.join(out, REPORT_FILES.markdown), 'utf8'), /\| FID samples vs test \| [\d.]+ \|/);
  });

  it('a corrupt cache entry is recomputed and rewritten', async () => {
    const cacheDir = path.join(dir, 'cache-corrupt');
    const first = await evaluate(path.join(vaeRun, 'onnx'), { count: N, classifier, cacheDir, metrics: ['fid'], figures: false });
    await fs.writeFile(first.fid!.reference.cacheFile, '{"format": 1, "mean": [');
    const warnings: string[] = [];
    const logger = { error() {}, info() {}, debug() {}, warn: (m: string) => warnings.push(m) };
    const second = await evaluate(path.join(vaeRun, 'onnx'), { count: N, classifier, cacheDir, metrics: ['fid'], figures: false, logger });
    assert.equal(second.fid!.reference.cached, false);
    assert.equal(second.fid!.trainVsTest, first.fid!.trainVsTest);
    assert.match(warnings.join('\n'), /invalid FID statistics cache entry/);
    JSON.parse(await fs.readFile(first.fid!.reference.cacheFile, 'utf8'));
  });

  it('an AE samples from a Gaussian fitted to its training codes and has no ELBO', async () => {
    const report = await evaluate(aeRun, { count: N, classifier, cacheDir: path.join(dir, 'cache'), ...LATENT, figures: false });
    assert.equal(report.fid!.prior, 'fitted-gaussian');
    assert.ok(report.fid!.samples! > 0);
    // ELBO is not an AE metric (the registry says so): not computed, and not reported as skipped.
    assert.deepEqual(report.skipped, []);
    assert.equal(report.elbo, undefined);
    assert.ok(report.ssim && report.psnr && report.latent);
    await rejectsWith(evaluate(aeRun, { count: N, classifier, metrics: ['elbo'] }), 'BAD_ARGUMENT', /--elbo does not apply: family 'ae' does not support elbo metrics/);
    // Without FID no training codes are encoded, so the figures have no samples but the rest.
    const psnrOnly = await evaluate(aeRun, { count: N, metrics: ['psnr'] });
    assert.equal(psnrOnly.figures!.samples, undefined);
    assert.equal(psnrOnly.figures!.reconstructions!.count, 32);
    assert.ok(psnrOnly.figures!.interpolation && psnrOnly.figures!.latentScatter);
  });

  it('a conditional VAE: labels are fed to its encoder and decoder', async () => {
    const report = await evaluate(cvaeRun, { count: N, classifier, cacheDir: path.join(dir, 'cache'), metrics: ['fid', 'ssim', 'elbo'], elboCount: 10, iwaeSamples: 4 });
    assert.equal(report.target.family, 'cvae');
    assert.ok(report.fid!.samples! > 0 && report.fid!.reconstructions! > 0);
    assert.ok(Number.isFinite(report.elbo!.iwae) && Number.isFinite(report.ssim!.mean));
    assert.equal(report.figures!.interpolation!.count, 10);
    assert.equal(report.figures!.samples!.count, 64);
  });

  it('a categorical VAE samples and reconstructs with the layout its artifacts record, or its run config for older artifacts, and says why not without either', async () => {
    const run = await tinyRun(dir, 'gumbel-vae', getFamily('gumbel-vae').tinyConfig);
    const report = await evaluate(run, { count: N, classifier, cacheDir: path.join(dir, 'cache'), metrics: ['fid', 'ssim'], figures: false });
    assert.equal(report.fid!.prior, 'uniform-categorical');
    assert.ok(report.fid!.samples! > 0 && report.fid!.reconstructions! > 0 && Number.isFinite(report.ssim!.mean));
    // The artifacts alone (no config.json next to them or one folder up) record the layout (aekit.categorical).
    const loose = path.join(dir, 'loose', 'artifacts');
    await fs.cp(path.join(run, 'onnx'), loose, { recursive: true });
    assert.deepEqual(readMetadata(path.join(loose, 'decoder.onnx')).categorical, { variables: 3, classes: 4 });
    const alone = await evaluate(loose, { count: N, classifier, cacheDir: path.join(dir, 'cache'), metrics: ['fid'], figures: false });
    assert.equal(alone.fid!.samples, report.fid!.samples);
    // Artifacts from before aekit.categorical existed: without a run config there is no layout.
    for (const part of ['encoder', 'decoder']) {
      const file = path.join(loose, `${part}.onnx`);
      const { categorical: _dropped, ...older } = readMetadata(file);
      await fs.writeFile(file, writeMetadata(await fs.readFile(file), older));
    }
    await rejectsWith(evaluate(loose, { count: N, classifier, metrics: ['fid'] }), 'BAD_ARGUMENT', /needs its layout \(model\.categorical\) from the run's config\.json/);
  });

  it('a classifier artifact: its test accuracy, and nothing else', async () => {
    const report = await evaluate(classifier, { count: N });
    assert.equal(report.accuracy!.count, N);
    // Five epochs on 300 images: far from 99%, far above the 10% of guessing.
    assert.ok(report.accuracy!.mean > 0.3, String(report.accuracy!.mean));
    assert.deepEqual([report.fid, report.ssim, report.elbo, report.latent, report.skipped], [undefined, undefined, undefined, undefined, []]);
    await rejectsWith(evaluate(classifier, { count: N, metrics: ['fid'] }), 'BAD_ARGUMENT', /--fid does not apply: family 'classifier' does not support fid metrics/);
  });

  it('bad input: --fid without a decoder, a dataset of another shape', async () => {
    await rejectsWith(evaluate(path.join(vaeRun, 'onnx', 'encoder.onnx'), { count: N, classifier, metrics: ['fid'] }), 'BAD_ARGUMENT', /--fid does not apply: the model has no decoder or generator/);
    await rejectsWith(evaluate(path.join(vaeRun, 'onnx'), { count: N, classifier, dataset: { name: 'colored-mnist' } }), 'BAD_ARGUMENT', /aekit\.imageShape\.channels: the model takes images with channels = 1, but dataset 'colored-mnist' has channels = 3/);
    await rejectsWith(evaluate(path.join(vaeRun, 'onnx'), { count: N, classifier: path.join(dir, 'missing.onnx'), metrics: ['fid'] }), 'FILE_NOT_FOUND', /FID classifier not found/);
  });
});
