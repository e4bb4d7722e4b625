import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './cli-helpers';

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
    ];
    for (const [args, pattern] of cases) {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 1, `${args.join(' ')} -> ${stderr}`);
      assert.match(stderr, pattern);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('quickstart runs end to end (shortened with --limit/--epochs)', async () => {
    const { code, stdout, stderr } = await runCli(['quickstart', '--out-dir', dir, '--limit', '400', '--epochs', '1']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /finished 1 epochs/);
    await fs.access(path.join(dir, 'quickstart', 'samples', 'epoch-0001.png'));
  });
});
