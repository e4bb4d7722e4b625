/**
 * A conv AE on a real 28x28 data set other than MNIST (issue 14): Debian's Fashion-MNIST, through
 * the built CLI as the README's example types it. The AE's codes are unbounded (the export check
 * once refused them at 1.3e-4 off on onnxruntime-web): export verifies on both runtimes with the
 * default allclose bound, and `aekit eval <run>` evaluates through the run folder, on the run's own
 * data set (the whole Fashion-MNIST test split, not the run's --limit). Skips, saying how to
 * install it, where the package is absent; .ci/run installs it.
 */
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fashionMnistDir } from '../../src/data/fashion-mnist';
import { CACHE_DIR_ENV } from '../../src/eval/cache';
import { runCli } from '../cli/cli-helpers';

/** Training images: a real set, few enough for a test (84 steps of 32, seconds on the ort engine). */
const LIMIT = 3000;

describe('e2e: a conv AE on Fashion-MNIST, exported verified and evaluated through its run folder @slow', function () {
  this.timeout(300_000);
  let dir: string;

  before(async function () {
    if (!existsSync(path.join(fashionMnistDir(), 'train-images-idx3-ubyte.gz'))) {
      process.stdout.write(`      Fashion-MNIST is not installed in ${fashionMnistDir()}; install it with: sudo apt-get install -y dataset-fashion-mnist\n`);
      this.skip();
    }
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-fashion-'));
  });
  after(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('train (auto -> ort), export with verification on, eval <run>', async () => {
    const run = path.join(dir, 'fashion-ae');
    const trained = await runCli(['train', '--model', 'ae', '--architecture', 'conv', '--latent', '16', '--dataset', 'fashion-mnist', '--limit', String(LIMIT), '--epochs', '1', '--batch-size', '32', '--name', 'fashion-ae', '--out-dir', dir]);
    assert.equal(trained.code, 0, trained.stderr);
    assert.match(trained.stderr, /engine: auto -> ort \(ort-node-cpu/);
    assert.match(trained.stderr, new RegExp(`${Math.round(LIMIT * 0.9)} training / ${Math.round(LIMIT * 0.1)} validation images`));

    const exported = await runCli(['export', run, '--out', path.join(run, 'onnx')]);
    assert.equal(exported.code, 0, exported.stderr);
    // Both parts on both runtimes, within the default bound |onnx - tfjs| <= 1e-4 + 1e-3·|tfjs|.
    const verified = [...exported.stdout.matchAll(/verify (ort-node-cpu|ort-web-wasm): max \|onnx - tfjs\| = ([\d.e+-]+), worst element at ([\d.]+)% of its bound \(\|onnx - tfjs\| <= 0\.0001 \+ 0\.001·\|tfjs\|\)/g)];
    assert.deepEqual(verified.map((m) => m[1]), ['ort-node-cpu', 'ort-web-wasm', 'ort-node-cpu', 'ort-web-wasm'], exported.stdout);
    for (const m of verified) assert.ok(Number(m[3]) <= 100, m[0]);

    const evaluated = await runCli(['eval', run, '--n', '500', '--latent-n', '500', '--json'], { env: { [CACHE_DIR_ENV]: path.join(dir, 'cache') } });
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const report = JSON.parse(evaluated.stdout) as {
      target: { family: string; parts: Record<string, string> };
      dataset: { spec: unknown; testCount: number; height: number; width: number; channels: number };
      skipped: unknown[];
      fid: { samples: number; reconstructions: number; trainVsTest: number; count: number };
      ssim: { mean: number; count: number };
      latent: { classifiers: { classifier: string; codes: number; pixels: number }[] };
    };
    assert.equal(report.target.family, 'ae');
    assert.deepEqual(Object.values(report.target.parts).sort(), [path.join(run, 'onnx', 'decoder.onnx'), path.join(run, 'onnx', 'encoder.onnx')]);
    // The run's data set without its --limit: the whole test split, 28x28x1, so the shipped MNIST classifier scores FID.
    assert.deepEqual(report.dataset.spec, { name: 'fashion-mnist' });
    assert.deepEqual([report.dataset.testCount, report.dataset.height, report.dataset.width, report.dataset.channels], [10000, 28, 28, 1]);
    assert.deepEqual(report.skipped, []);
    assert.equal(report.fid.count, 500);
    for (const value of [report.fid.samples, report.fid.reconstructions, report.fid.trainVsTest]) assert.ok(Number.isFinite(value) && value >= 0, JSON.stringify(report.fid));
    assert.ok(report.fid.reconstructions > report.fid.trainVsTest, 'reconstructions are further from the test images than real images are');
    assert.ok(report.ssim.count === 500 && report.ssim.mean > 0.2 && report.ssim.mean <= 1, JSON.stringify(report.ssim));
    // Ten classes of clothing: codes of a trained AE classify far above chance (10%).
    for (const row of report.latent.classifiers) assert.ok(row.codes > 0.3 && row.pixels > 0.5, JSON.stringify(row));
  });
});
