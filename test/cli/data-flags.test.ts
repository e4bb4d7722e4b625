import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { isAekitError } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import { fashionMnistDir } from '../../src/data/fashion-mnist';
import { loadDataset } from '../../src/data/registry';
import { parseOptions } from '../../src/cli/common';
import { addDataFlags, dataFlagsShape, dataSourceFromFlags, reportingFolderReads } from '../../src/cli/data-flags';
import type { DataFlags, FolderShape } from '../../src/cli/data-flags';
import { z } from 'zod';
import { runCli } from './cli-helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'fixtures', 'data');
const OMNIGLOT = path.join(FIXTURES, 'omniglot-tiny');
const IMAGES = path.join(FIXTURES, 'mnist-100', 'train-images-idx3-ubyte');
const LABELS = path.join(FIXTURES, 'mnist-100', 'train-labels-idx1-ubyte');
const DEFAULTS: FolderShape = { height: 28, width: 28, channels: 1 };

/** The flags as a user types them, through commander and the schema (as the verbs parse them). */
function parse(args: string[], sizing: 'flags' | 'model' = 'flags'): DataFlags {
  const command = addDataFlags(new Command('x').exitOverride().configureOutput({ writeErr: () => {} }), sizing === 'flags' ? { kind: 'flags', defaults: '28x28' } : { kind: 'model' });
  command.parse(args, { from: 'user' });
  return parseOptions(z.object(dataFlagsShape), command.opts());
}

async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    assert.ok(isAekitError(error), String(error));
    return error.message;
  }
  throw new Error('expected an error');
}

describe('cli/data-flags: one data-source parser for every verb', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-data-flags-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('makes a DatasetSpec of each kind of source', async () => {
    assert.deepEqual(await dataSourceFromFlags(parse(['--dataset', 'fashion-mnist']), { defaults: DEFAULTS }), { spec: { name: 'fashion-mnist' } });
    assert.deepEqual(await dataSourceFromFlags(parse(['--data', OMNIGLOT, '--image-size', '16x12', '--channels', '3']), { defaults: DEFAULTS }), {
      spec: { name: 'folder', path: OMNIGLOT, height: 16, width: 12, channels: 3 },
    });
    assert.deepEqual(await dataSourceFromFlags(parse(['--data', OMNIGLOT]), { defaults: DEFAULTS }), { spec: { name: 'folder', path: OMNIGLOT, ...DEFAULTS } });
    assert.deepEqual(await dataSourceFromFlags(parse(['--idx', IMAGES, '--idx-labels', LABELS, '--idx-test-images', `${IMAGES}.gz`, '--idx-test-labels', `${LABELS}.gz`, '--idx-transpose'])), {
      spec: { name: 'idx', images: IMAGES, labels: LABELS, testImages: `${IMAGES}.gz`, testLabels: `${LABELS}.gz`, transpose: true },
    });
    assert.equal(await dataSourceFromFlags(parse([]), { defaults: DEFAULTS }), undefined);
  });

  it("reads a folder at the model's size where the verb takes it (eval, latent): no size flags there", async () => {
    assert.deepEqual(await dataSourceFromFlags(parse(['--data', OMNIGLOT], 'model')), { folder: OMNIGLOT });
    assert.throws(() => parse(['--data', OMNIGLOT, '--image-size', '8x8'], 'model'), /unknown option '--image-size'/);
  });

  it("keeps a config's folder size for --data, and resizes a config's folder with --image-size alone", async () => {
    const current = { name: 'folder', path: 'faces', height: 64, width: 64, channels: 3 } as const;
    assert.deepEqual(await dataSourceFromFlags(parse(['--data', OMNIGLOT]), { defaults: DEFAULTS, current }), { spec: { name: 'folder', path: OMNIGLOT, height: 64, width: 64, channels: 3 } });
    assert.deepEqual(await dataSourceFromFlags(parse(['--image-size', '32x32']), { defaults: DEFAULTS, current }), { spec: { ...current, height: 32, width: 32 } });
  });

  it('reads a data config file, with paths relative to the file', async () => {
    const sub = path.join(dir, 'configs');
    await fs.mkdir(sub, { recursive: true });
    const file = path.join(sub, 'omniglot.json');
    await fs.writeFile(file, JSON.stringify({ name: 'folder', path: path.relative(sub, OMNIGLOT), height: 8, width: 8, channels: 1, limitPerClass: 2 }));
    const source = await dataSourceFromFlags(parse(['--data-config', file]));
    assert.deepEqual(source, { spec: { name: 'folder', path: OMNIGLOT, height: 8, width: 8, channels: 1, limitPerClass: 2 } });
    const idxFile = path.join(sub, 'idx.json');
    await fs.writeFile(idxFile, JSON.stringify({ name: 'idx', images: path.relative(sub, IMAGES), labels: path.relative(sub, LABELS) }));
    const idx = await dataSourceFromFlags(parse(['--data-config', idxFile]));
    assert.ok(idx && 'spec' in idx);
    assert.equal((await loadDataset(idx.spec, 'train', 0)).count, 90);
  });

  it('errors name the flag and the valid choices', async () => {
    const cases: [string[], string][] = [
      [['--dataset', 'cifar'], "--dataset: unknown dataset 'cifar'; expected one of: mnist, colored-mnist, fashion-mnist; for your own files use --data <folder>, --idx <images> --idx-labels <labels> or --data-config <file.json>"],
      [['--dataset', 'idx'], '--dataset: unknown dataset \'idx\'; expected one of: mnist, colored-mnist, fashion-mnist; IDX files are given with --idx <images> --idx-labels <labels>'],
      [['--dataset', 'mnist', '--data', OMNIGLOT], `data source: give a dataset (--dataset mnist) or an image folder (--data ${OMNIGLOT}), not both`],
      [['--dataset', 'mnist', '--idx', IMAGES, '--data-config', 'x.json'], `data source: give a dataset (--dataset mnist) or IDX files (--idx ${IMAGES}) or a data config (--data-config x.json), not several`],
      [['--idx', IMAGES], `data source: --idx ${IMAGES} needs its labels: --idx-labels <labels>`],
      [['--idx-labels', LABELS], 'data source: --idx-labels goes with --idx <images>'],
      [['--idx', IMAGES, '--idx-labels', LABELS, '--idx-test-images', IMAGES], 'data source: give both --idx-test-images and --idx-test-labels, or neither'],
      [['--idx', path.join(dir, 'nope'), '--idx-labels', LABELS], `--idx: file not found: ${path.join(dir, 'nope')}`],
      [['--data', path.join(dir, 'no-folder')], `--data: folder not found: ${path.join(dir, 'no-folder')}`],
      [['--data', IMAGES], `--data: expected a folder of images, found a file: ${IMAGES}`],
      [['--dataset', 'mnist', '--image-size', '32x32'], "data source: --image-size and --channels apply to an image folder (--data <folder>), not to dataset 'mnist'"],
      [['--channels', '3'], 'data source: --image-size and --channels apply to an image folder (--data <folder>), not to no dataset'],
      [['--data-config', path.join(dir, 'missing.json')], `--data-config: file not found: ${path.join(dir, 'missing.json')}`],
    ];
    for (const [args, message] of cases) assert.equal(await failure(() => dataSourceFromFlags(parse(args), { defaults: DEFAULTS })), message, args.join(' '));
    const bad = path.join(dir, 'bad.json');
    await fs.writeFile(bad, JSON.stringify({ name: 'folder', path: 'x', height: 8 }));
    assert.match(await failure(() => dataSourceFromFlags(parse(['--data-config', bad]))), new RegExp(`^--data-config ${bad}: invalid dataset spec: .*width`));
    await fs.writeFile(bad, JSON.stringify({ name: 'svhn' }));
    assert.match(await failure(() => dataSourceFromFlags(parse(['--data-config', bad]))), /--data-config .*bad\.json: unknown dataset 'svhn'; expected one of: mnist, colored-mnist, fashion-mnist, idx, folder/);
    assert.throws(() => parse(['--channels', '2']), /--channels: expected 1 \(grayscale\) or 3 \(RGB\)/);
    assert.throws(() => parse(['--image-size', '28']), /--image-size: expected HxW, e\.g\. 28x28/);
  });

  it('prints one line per folder read inside the work, and the skipped files at debug', async () => {
    const lines: string[] = [];
    const logger: Logger = { error: () => {}, warn: () => {}, info: (m) => lines.push(`info ${m}`), debug: (m) => lines.push(`debug ${m}`) };
    const spec = { name: 'folder', path: OMNIGLOT, height: 8, width: 8, channels: 1 } as const;
    await reportingFolderReads(logger, () => Promise.all([loadDataset(spec, 'train', 0), loadDataset(spec, 'test', 0)]));
    assert.deepEqual(lines, [`info read 24 images from ${OMNIGLOT} (6 classes); skipped 1: not an image: 1 (.txt 1) (AEKIT_LOG=debug lists them)`, `debug skipped ${path.join(OMNIGLOT, 'README.txt')}: not an image`]);
  });
});

/** True when Debian's dataset-fashion-mnist is installed (the tests that read it skip otherwise, saying how to install it). */
function hasFashionMnist(ctx: Mocha.Context): void {
  if (existsSync(path.join(fashionMnistDir(), 't10k-images-idx3-ubyte.gz'))) return;
  process.stdout.write(`      Fashion-MNIST is not installed in ${fashionMnistDir()}; install it with: sudo apt-get install dataset-fashion-mnist\n`);
  ctx.skip();
}

describe('cli/data-flags: every verb takes the same data sources (built CLI)', function () {
  this.timeout(240_000);
  let dir: string;
  let encoder: string;
  let run: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-cli-data-'));
    run = path.join(dir, 'idx-vae');
    // A tiny 28x28 VAE trained from IDX files through the CLI, then exported: what eval and latent read.
    const trained = await runCli(['train', '--model', 'vae', '--architecture', 'mlp', '--latent', '2', '--set', 'model.hiddenSizes=[32]', '--idx', IMAGES, '--idx-labels', LABELS, '--epochs', '1', '--batch-size', '30', '--name', 'idx-vae', '--out-dir', dir]);
    assert.equal(trained.code, 0, trained.stderr);
    const exported = await runCli(['export', run, '--out', path.join(run, 'onnx')]);
    assert.equal(exported.code, 0, exported.stderr);
    encoder = path.join(run, 'onnx', 'encoder.onnx');
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('train: a flat folder of RGB images trains and says what it read; a cvae on it is refused before training', async () => {
    const flat = path.join(FIXTURES, 'flat-rgb');
    const common = ['--data', flat, '--image-size', '16x16', '--channels', '3', '--epochs', '1', '--batch-size', '4', '--out-dir', dir];
    const ae = await runCli(['train', '--model', 'ae', ...common, '--name', 'flat-ae']);
    assert.equal(ae.code, 0, ae.stderr);
    assert.match(ae.stderr, new RegExp(`^read 12 images from ${flat} \\(unlabelled\\)$`, 'm'));
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(dir, 'flat-ae', 'config.json'), 'utf8')).data.dataset, { name: 'folder', path: flat, height: 16, width: 16, channels: 3 });
    const cvae = await runCli(['train', '--model', 'cvae', ...common, '--name', 'flat-cvae']);
    assert.equal(cvae.code, 1);
    assert.match(cvae.stderr, new RegExp(`^aekit: model family 'cvae' \\(.*\\) needs labelled images of at least 2 classes, but ${flat} is unlabelled: a flat folder of images \\(no class subfolders\\)\\. Give a folder with one subfolder per class.*\\n$`));
    assert.ok(!existsSync(path.join(dir, 'flat-cvae')), 'nothing was started');
  });

  it('train: a data config file, and --limit on a folder', async () => {
    const config = path.join(dir, 'omniglot.json');
    await fs.writeFile(config, JSON.stringify({ name: 'folder', path: path.relative(dir, OMNIGLOT), height: 8, width: 8, channels: 1 }));
    const result = await runCli(['train', '--model', 'ae', '--architecture', 'mlp', '--set', 'model.hiddenSizes=[16]', '--data-config', config, '--limit', '10', '--epochs', '1', '--batch-size', '5', '--name', 'config-ae', '--out-dir', dir]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /read 24 images from .*omniglot-tiny \(6 classes\); skipped 1: not an image: 1 \(\.txt 1\)/);
    assert.match(result.stderr, /9 training \/ 1 validation images/);
  });

  it('eval: IDX files with --idx, a one-class folder refused for --latent, Fashion-MNIST by name', async function () {
    const idx = await runCli(['eval', run, '--ssim', '--idx', IMAGES, '--idx-labels', LABELS, '--n', '10', '--json']);
    assert.equal(idx.code, 0, idx.stderr);
    const report = JSON.parse(idx.stdout) as { dataset: { spec: unknown; testCount: number }; ssim: unknown };
    assert.deepEqual(report.dataset.spec, { name: 'idx', images: IMAGES, labels: LABELS });
    assert.equal(report.dataset.testCount, 10);
    assert.ok(report.ssim);

    const one = path.join(dir, 'one-digit');
    await fs.mkdir(path.join(one, 'seven'), { recursive: true });
    for (const file of await fs.readdir(path.join(FIXTURES, 'flat-rgb'))) await fs.copyFile(path.join(FIXTURES, 'flat-rgb', file), path.join(one, 'seven', file));
    const single = await runCli(['eval', run, '--latent', '--data', one]);
    assert.equal(single.code, 1);
    assert.match(single.stderr, new RegExp(`--latent does not apply: ${one} has one class \\('seven'\\); at least 2 are needed\\n$`));

    hasFashionMnist(this);
    const fashion = await runCli(['eval', run, '--ssim', '--dataset', 'fashion-mnist', '--n', '20', '--json']);
    assert.equal(fashion.code, 0, fashion.stderr);
    assert.deepEqual((JSON.parse(fashion.stdout) as { dataset: { spec: unknown } }).dataset.spec, { name: 'fashion-mnist' });
  });

  it('latent: classify on IDX files and on Fashion-MNIST; a flat folder or loose files are refused before any model is opened', async function () {
    const idx = await runCli(['latent', 'classify', encoder, '--idx', IMAGES, '--idx-labels', LABELS, '--split', 'train', '--classifiers', 'knn']);
    assert.equal(idx.code, 0, idx.stderr);
    assert.match(idx.stdout, /^10 classes, \d+ training and \d+ test images/);
    const flat = path.join(FIXTURES, 'flat-rgb');
    const refused = await runCli(['latent', 'classify', path.join(dir, 'no-such-encoder.onnx'), '--data', flat]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`^aekit: latent classification needs labelled images of at least 2 classes, but ${flat} is unlabelled`));
    const files = await runCli(['latent', 'classify', encoder, '--images', path.join(flat, 'cat-00.png')]);
    assert.match(files.stderr, /latent classification needs labelled images of at least 2 classes; image files given with --images carry no class/);
    const scatter = await runCli(['latent', 'scatter', encoder, '--idx', IMAGES, '--idx-labels', LABELS, '--out', path.join(dir, 'scatter.png')]);
    assert.equal(scatter.code, 0, scatter.stderr);
    const folder = await runCli(['latent', 'scatter', encoder, '--data', OMNIGLOT, '--out', path.join(dir, 'scatter-folder.png')]);
    assert.equal(folder.code, 0, folder.stderr);
    assert.match(folder.stderr, new RegExp(`^read 24 images from ${OMNIGLOT} \\(6 classes\\); skipped 1: not an image: 1 \\(\\.txt 1\\) \\(AEKIT_LOG=debug lists them\\)$`, 'm'));

    hasFashionMnist(this);
    const fashion = await runCli(['latent', 'classify', encoder, '--dataset', 'fashion-mnist', '--limit', '300', '--classifiers', 'knn']);
    assert.equal(fashion.code, 0, fashion.stderr);
    assert.match(fashion.stdout, /^10 classes, 2\d\d training and \d\d test images/);
  });

  it('sweep takes the same flags; bad data flags are one line naming the flag', async () => {
    const plan = await runCli(['sweep', '--config', path.join(ROOT, 'experiments', 'mnist-vae-grid-small.json'), '--idx', IMAGES, '--idx-labels', LABELS, '--out-dir', dir, '--dry-run']);
    assert.equal(plan.code, 0, plan.stderr);
    const cases: [string[], RegExp][] = [
      [['train', '--model', 'ae', '--dataset', 'cifar'], /^aekit: --dataset: unknown dataset 'cifar'; expected one of: mnist, colored-mnist, fashion-mnist; for your own files use --data <folder>/],
      [['eval', run, '--idx', IMAGES], /^aekit: data source: --idx .* needs its labels: --idx-labels <labels>$/],
      [['latent', 'scatter', encoder, '--dataset', 'mnist', '--data', OMNIGLOT, '--out', 'x.png'], /^aekit: data source: give a dataset \(--dataset mnist\) or an image folder \(--data .*\), not both$/],
      [['sweep', '--config', path.join(ROOT, 'experiments', 'mnist-vae-grid-small.json'), '--channels', '3', '--dry-run'], /^aekit: data source: --image-size and --channels apply to an image folder \(--data <folder>\), not to dataset 'mnist'$/],
      [['train', '--model', 'ae', '--data', path.join(dir, 'missing')], /^aekit: --data: folder not found: /],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCli(args);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr.trim(), pattern);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
  });
});
