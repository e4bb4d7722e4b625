import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_FID_CLASSIFIER } from '../../src/eval/fid-features';
import { TRAINING_FID_METRIC } from '../../src/train/sample-fid';
import { tinyClassifier } from '../eval/helpers';
import { runCli } from './cli-helpers';

const OMNIGLOT_MINI = path.resolve(__dirname, '..', '..', 'fixtures', 'omniglot-mini');

describe('cli: aekit train / quickstart', function () {
  this.timeout(300_000);
  let dir: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-cli-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('--help shows examples for every command', async () => {
    for (const command of ['train', 'quickstart']) {
      const { code, stdout } = await runCli([command, '--help']);
      assert.equal(code, 0);
      assert.match(stdout, /Examples?:/);
    }
  });

  it('trains from flags and writes a run folder', async () => {
    const { code, stdout, stderr } = await runCli(
      ['train', '--model', 'ae', '--architecture', 'mlp', '--latent', '4', '--dataset', 'mnist', '--limit', '200', '--epochs', '1', '--batch-size', '50', '--name', 'flags', '--out-dir', dir, '--set', 'model.hiddenSizes=[32]'],
    );
    assert.equal(code, 0, stderr);
    assert.match(stderr, /backend: \w+/);
    assert.match(stdout, /finished 1 epochs/);
    const config = JSON.parse(await fs.readFile(path.join(dir, 'flags', 'config.json'), 'utf8'));
    assert.deepEqual(config.model.hiddenSizes, [32]);
    assert.equal(config.model.latentSize, 4);
  });

  it('--resume extends a run', async () => {
    const { code, stdout, stderr } = await runCli(['train', '--resume', path.join(dir, 'flags'), '--epochs', '2']);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /resumed from/);
    assert.match(stdout, /finished 2 epochs/);
  });

  it('bad input gives one clear line and exit code 1, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['train', '--model', 'nope', '--dataset', 'mnist', '--out-dir', dir], /unknown model family 'nope'; expected one of/],
      [['train', '--config', path.join(dir, 'missing.json')], /missing\.json: cannot read config file/],
      [['train', '--model', 'vae', '--dataset', 'mnist', '--epochs', 'x', '--out-dir', dir], /--epochs/],
      [['train', '--model', 'vae', '--data', path.join(dir, 'no-such-folder'), '--out-dir', dir, '--name', 'nofolder'], /no-such-folder/],
      // Issue 16: a typo under --set, an image size no machine holds.
      [['train', '--model', 'vae', '--dataset', 'mnist', '--set', 'train.learningrate=0.5', '--out-dir', dir], /aekit: --set train\.learningrate=0\.5: unknown field 'train\.learningrate'; did you mean 'train\.learningRate'\?/],
      [['train', '--model', 'ae', '--data', OMNIGLOT_MINI, '--image-size', '100000x100000', '--out-dir', dir, '--name', 'huge'], /omniglot-mini: \d+ images of 100000x100000x1 need [\d.]+ GB as float32/],
    ];
    for (const [args, pattern] of cases) {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 1, `${args.join(' ')} -> ${stderr}`);
      assert.match(stderr, pattern);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('missing pieces (no recipe, no --model, no data) get the usage line naming the flags, not schema errors', async () => {
    const partial = path.join(dir, 'model-only.json');
    await fs.writeFile(partial, JSON.stringify({ name: 'partial', outDir: dir, model: { family: 'ae' } }));
    const cases: [string[], RegExp][] = [
      [['train'], /^aekit: aekit train: missing a model family \(--model\) and data \(--dataset, --data or --idx\)\nusage: aekit train --config <recipe\.json> \[flags\], or aekit train --model <family> \(--dataset <name> \| --data <folder> \| --idx <images\.gz>\)/],
      [['train', '--model', 'vae'], /^aekit: aekit train: missing data \(--dataset, --data or --idx\)\nusage: aekit train --config/],
      [['train', '--dataset', 'mnist'], /^aekit: aekit train: missing a model family \(--model\)\nusage: /],
      [['train', '--config', partial], /missing data \(--dataset, --data or --idx\) \(.*model-only\.json gives none\)\nusage: /],
    ];
    for (const [args, pattern] of cases) {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 1, `${args.join(' ')} -> ${stderr}`);
      assert.match(stderr, pattern, args.join(' '));
      assert.doesNotMatch(stderr, /Invalid input|expected object/, 'no raw schema errors');
    }
  });

  it('a recipe with a misspelt key is refused, naming the file, the key and the key meant', async () => {
    const recipe = path.join(dir, 'typo.json');
    await fs.writeFile(recipe, JSON.stringify({ name: 'typo', outDir: dir, model: { family: 'ae' }, data: { dataset: { name: 'mnist' }, valuRange: 'unit' }, train: { learnigRate: 0.1 } }));
    const { code, stderr } = await runCli(['train', '--config', recipe]);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /typo\.json: unknown field 'data\.valuRange'; did you mean 'data\.valueRange'\?; unknown field 'train\.learnigRate'; did you mean 'train\.learningRate'\?/);
    assert.ok(!existsSync(path.join(dir, 'typo')), 'nothing was trained');
  });

  it('--fid <classifier.onnx> tracks FID of prior samples every epoch in metrics.jsonl', async () => {
    // A classifier trained here: the shipped models/mnist-classifier.onnx may not be installed.
    const classifier = await tinyClassifier(dir);
    const common = ['train', '--model', 'vae', '--architecture', 'mlp', '--latent', '4', '--epochs', '2', '--batch-size', '50', '--out-dir', dir, '--set', 'model.hiddenSizes=[32]'];
    const { code, stdout, stderr } = await runCli([...common, '--dataset', 'mnist', '--limit', '200', '--name', 'fid', '--fid', classifier]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /finished 2 epochs/);
    const records = (await fs.readFile(path.join(dir, 'fid', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { kind: string; epoch: number; validation: Record<string, number> });
    const epochs = records.filter((r) => r.kind === 'epoch');
    assert.deepEqual(epochs.map((r) => r.epoch), [1, 2]);
    for (const r of epochs) assert.ok(Number.isFinite(r.validation[TRAINING_FID_METRIC]) && r.validation[TRAINING_FID_METRIC] > 0, JSON.stringify(r.validation));

    // Before any training: a classifier of another image shape, and the default one when missing.
    const shape = await runCli([...common, '--data', OMNIGLOT_MINI, '--image-size', '16x16', '--name', 'fid-16', '--fid', classifier]);
    assert.equal(shape.code, 1);
    assert.match(shape.stderr, /^aekit: .*classifier\.onnx: aekit\.imageShape\.height: the FID classifier takes images with height = 28, but the run's dataset \(data\.dataset\) has height = 16 \(16x16x1\)$/m);
    if (!existsSync(DEFAULT_FID_CLASSIFIER)) {
      const missing = await runCli([...common, '--dataset', 'mnist', '--limit', '200', '--name', 'fid-default', '--fid']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /FID classifier not found: the shipped MNIST classifier is missing; pass another with --fid <classifier\.onnx>/);
    }
  });

  it('quickstart runs end to end (shortened with --limit/--epochs)', async () => {
    const { code, stdout, stderr } = await runCli(['quickstart', '--out-dir', dir, '--limit', '400', '--epochs', '1']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /finished 1 epochs/);
    await fs.access(path.join(dir, 'quickstart', 'samples', 'epoch-0001.png'));
  });
});
