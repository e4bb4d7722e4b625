import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePng } from '../../src/core/image-io';
import { REPORT_FILES } from '../../src/eval/report';
import { getFamily } from '../../src/models';
import { TINY_AE, TINY_VAE, tinyClassifier, tinyRun } from '../eval/helpers';
import { tintedMnistFolder } from '../models/helpers';
import { runCli } from './cli-helpers';

const OMNIGLOT_MINI = path.resolve(__dirname, '..', '..', 'fixtures', 'omniglot-mini');

describe('cli: aekit eval', function () {
  this.timeout(180_000);
  let dir: string;
  let classifier: string;
  let run: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-cli-eval-'));
    classifier = await tinyClassifier(dir);
    run = await tinyRun(dir, 'vae', TINY_VAE);
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('--help shows examples', async () => {
    const { code, stdout } = await runCli(['eval', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /Examples:\n {2}aekit eval runs\/quickstart/);
  });

  it('evaluates a run folder: JSON on stdout, a report folder with decodable PNGs', async () => {
    const report = path.join(dir, 'report');
    const args = ['eval', run, '--n', '150', '--elbo-n', '10', '--iwae-k', '4', '--latent-n', '200', '--classifier', classifier, '--cache-dir', path.join(dir, 'cache')];
    const { code, stdout, stderr } = await runCli([...args, '--report', report, '--json']);
    assert.equal(code, 0, stderr);
    const json = JSON.parse(stdout);
    assert.equal(json.count, 150);
    assert.equal(json.target.family, 'vae');
    for (const key of ['fid', 'ssim', 'psnr', 'elbo', 'latent']) assert.ok(json[key], `${key} missing`);
    assert.ok(json.fid.trainVsTest >= 0 && json.fid.samples > json.fid.trainVsTest);
    assert.match(stderr, /FID test statistics cached in .*fid-stats/);
    for (const name of Object.values(REPORT_FILES).filter((f) => f !== REPORT_FILES.translations)) await fs.access(path.join(report, name));
    decodePng(await fs.readFile(path.join(report, REPORT_FILES.samples)));

    // Without --json: the table; one metric flag computes only that metric.
    const table = await runCli([...args, '--psnr']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /PSNR \(reconstructions\)\s+[\d.]+ dB/);
    assert.doesNotMatch(table.stdout, /FID/);
  });

  it('bad input is one line on stderr with exit code 1', async () => {
    const { code, stderr } = await runCli(['eval', path.join(run, 'onnx', 'encoder.onnx'), '--fid', '--classifier', classifier]);
    assert.equal(code, 1);
    assert.match(stderr, /^aekit: .*encoder\.onnx: --fid does not apply: the model has no decoder or generator artifact/m);
    assert.doesNotMatch(stderr, /\n\s+at /);
    const badN = await runCli(['eval', run, '--n', 'many']);
    assert.equal(badN.code, 1);
    assert.match(badN.stderr, /--n: expected a number, got 'many'/);
  });

  it('--data <folder>: the folder is the data; --fid on images FID cannot score is one line', async () => {
    const small = await tinyRun(dir, 'omniglot-16', TINY_AE, { dataset: { name: 'folder', path: OMNIGLOT_MINI, height: 16, width: 16, channels: 1 } }, { batchSize: 8 });
    const { code, stdout, stderr } = await runCli(['eval', path.join(small, 'onnx'), '--data', OMNIGLOT_MINI, '--classifier', classifier, '--latent-n', '20', '--json']);
    assert.equal(code, 0, stderr);
    const json = JSON.parse(stdout);
    // Read at the model's 16x16, split 90/10 with the run's seed.
    assert.deepEqual(json.dataset.spec, { name: 'folder', path: OMNIGLOT_MINI, height: 16, width: 16, channels: 1 });
    assert.deepEqual([json.dataset.trainCount, json.dataset.testCount], [22, 2]);
    assert.ok(json.ssim && json.psnr && json.latent);
    assert.deepEqual(json.skipped.map((s: { metric: string }) => s.metric), ['fid']);

    const fid = await runCli(['eval', small, '--fid', '--classifier', classifier]);
    assert.equal(fid.code, 1);
    assert.match(fid.stderr, /^aekit: .*omniglot-16: --fid does not apply: FID's feature network \(.*classifier\.onnx\) takes 28x28x1 images and the model's are 16x16x1; pass a classifier artifact trained on images of this shape with --classifier$/m);
    assert.doesNotMatch(fid.stderr, /\n\s+at /);
    const both = await runCli(['eval', small, '--data', OMNIGLOT_MINI, '--dataset', 'mnist']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /^aekit: .*: give a dataset \(--dataset mnist\) or an image folder \(--data .*omniglot-mini\), not both$/m);
  });

  it('--translation on a cyclegan run: cycle SSIM/PSNR of both domains and the translations figure', async () => {
    const [warm, cool] = [await tintedMnistFolder(dir, 'warm', 16, 80, 1), await tintedMnistFolder(dir, 'cool', 16, 80, 2)];
    const run = await tinyRun(dir, 'cyclegan', { ...getFamily('cyclegan').tinyConfig, domainB: cool }, { dataset: warm, valueRange: 'symmetric' }, { stepsPerEpoch: 2, batchSize: 8 });
    const report = path.join(dir, 'cyclegan-report');
    const { code, stdout, stderr } = await runCli(['eval', run, '--translation', '--n', '8', '--report', report]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^cyclegan \(cyclegan\) on .*mnist-warm-16\n/);
    for (const row of [/SSIM \(cycle A -> B -> A\)\s+-?[\d.]+/, /PSNR \(cycle A -> B -> A\)\s+[\d.]+ dB/, /SSIM \(cycle B -> A -> B\)/, /PSNR \(cycle B -> A -> B\)/]) assert.match(stdout, row);
    decodePng(await fs.readFile(path.join(report, REPORT_FILES.translations)));
  });

  it('quickstart ends with an export and an eval table @slow', async () => {
    const { code, stdout, stderr } = await runCli(['quickstart', '--out-dir', dir, '--limit', '300', '--epochs', '1', '--eval-n', '100']);
    assert.equal(code, 0, stderr);
    const runDir = path.join(dir, 'quickstart');
    for (const part of ['encoder', 'decoder']) await fs.access(path.join(runDir, 'onnx', `${part}.onnx`));
    assert.match(stdout, /SSIM \(reconstructions\)\s+[\d.-]+\s+mean of 100/);
    assert.match(stdout, /PSNR \(reconstructions\)\s+[\d.]+ dB/);
    assert.match(stdout, /ELBO\s+-[\d.]+\s+nats\/image, 10 images/);
    assert.match(stdout, /IWAE bound \(K = 64\)/);
    // FID needs the shipped classifier; without it the quickstart says so instead of failing.
    if (!/FID skipped/.test(stderr)) assert.match(stdout, /FID samples vs test\s+[\d.]+/);
    await fs.access(path.join(runDir, 'eval', REPORT_FILES.json));
  });
});
