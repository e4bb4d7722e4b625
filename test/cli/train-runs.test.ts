/**
 * `aekit train` as a user meets it on their own data: the 40 flat PNGs with the default
 * batch train on the default engine (auto -> ort, said on the start line) with a warning; a run
 * that fails says where its error and checkpoint are and how to resume. `aekit export` takes
 * --rtol/--atol for its parity check.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { Rng } from '../../src/core/rng';
import { runCli } from './cli-helpers';

describe('cli: aekit train on any data size; aekit export --rtol/--atol', function () {
  this.timeout(300_000);
  let dir: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-cli-runs-'));
    // 40 grey noise PNGs straight in the folder: one class, fewer images than one batch of 128.
    const flat = path.join(dir, 'images');
    await fs.mkdir(flat);
    const rng = new Rng(3);
    for (let i = 0; i < 40; i++) {
      const png = new PNG({ width: 28, height: 28 });
      for (let p = 0; p < 28 * 28; p++) {
        const v = rng.int(256);
        png.data.set([v, v, v, 255], p * 4);
      }
      await fs.writeFile(path.join(flat, `${i}.png`), PNG.sync.write(png));
    }
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** A recipe on the flat folder, with the defaults (batch 128, engine auto) unless `train` says otherwise. */
  async function recipe(name: string, train: Record<string, unknown> = {}): Promise<string> {
    const file = path.join(dir, `${name}.json`);
    const config = {
      name,
      outDir: dir,
      model: { family: 'vae', architecture: 'mlp', hiddenSizes: [32], latentSize: 4 },
      data: { dataset: { name: 'folder', path: path.join(dir, 'images'), height: 28, width: 28, channels: 1 } },
      train: { epochs: 2, backend: 'wasm', ...train },
    };
    await fs.writeFile(file, JSON.stringify(config));
    return file;
  }

  it('40 flat PNGs with the default batch train on the default engine, which the start line names', async () => {
    const { code, stdout, stderr } = await runCli(['train', '--config', await recipe('flat')]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /engine: auto -> ort \(ort-node-cpu, Adam in the host arena/);
    const warning = /warning: train\.batchSize is 128 but the training split has (\d+) images: training on batches of \1 \(one step per epoch\)/.exec(stderr);
    assert.ok(warning, stderr);
    assert.match(stderr, new RegExp(`batches of ${warning[1]}, 1 step per epoch`));
    assert.match(stdout, /finished 2 epochs \(2 steps\)/);
    const info = JSON.parse(await fs.readFile(path.join(dir, 'flat', 'run.json'), 'utf8'));
    assert.deepEqual([info.engineChoice, info.engine, info.status], ['auto', 'ort', 'finished']);
  });

  it('--engine tfjs is still there, and the start line says so without an arrow', async () => {
    const { code, stderr } = await runCli(['train', '--config', await recipe('flat-tfjs'), '--engine', 'tfjs', '--epochs', '1']);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /; engine: tfjs\n/);
  });

  it('a run that fails says so in run.json and on stderr, with how to resume', async () => {
    // A learning rate this large makes the model diverge at its first step: the step's loss is
    // still finite, epoch 1's validation is not (issue 16: that now stops the run too).
    const { code, stderr } = await runCli(['train', '--config', await recipe('diverges', { learningRate: 1e6, epochs: 3 })]);
    assert.equal(code, 1);
    const runDir = path.join(dir, 'diverges');
    assert.ok(stderr.includes(`run failed; ${path.join(runDir, 'run.json')} records the error; continue from its latest checkpoint with: aekit train --resume ${runDir}`), stderr);
    const info = JSON.parse(await fs.readFile(path.join(runDir, 'run.json'), 'utf8'));
    assert.equal(info.status, 'failed');
    assert.equal(info.error.code, 'NON_FINITE_LOSS');
    assert.match(info.error.message, new RegExp(`^epoch 1: validation \\w+ is Infinity\\. Training stopped: the model diverged \\(the epoch's weights, in ${path.join(runDir, 'checkpoints', 'epoch-0001')}, are not worth resuming from\\)`));
  });

  it('aekit export checks parity by |onnx - tfjs| <= atol + rtol·|tfjs|, set by --rtol/--atol', async () => {
    const run = path.join(dir, 'flat');
    const ok = await runCli(['export', run, '--out', path.join(dir, 'onnx')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /verify ort-node-cpu: max \|onnx - tfjs\| = \S+, worst element at \d+\.\d% of its bound \(\|onnx - tfjs\| <= 0\.0001 \+ 0\.001·\|tfjs\|\)/);
    // No bound at all: float32 rounding alone fails it, and the message says how to change it.
    const strict = await runCli(['export', run, '--out', path.join(dir, 'onnx-strict'), '--rtol', '0', '--atol', '0']);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /differs from tfjs beyond the tolerance 0 \+ 0·\|tfjs\|: at element \d+, onnx \S+ vs tfjs \S+ \(\|diff\| \S+, relative \S+/);
    assert.match(strict.stderr, /--rtol\/--atol.*--no-verify/);
    const both = await runCli(['export', run, '--out', path.join(dir, 'onnx-both'), '--no-verify', '--rtol', '1']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /--rtol: --rtol\/--atol set the parity check that --no-verify skips/);
    const negative = await runCli(['export', run, '--out', path.join(dir, 'onnx-neg'), '--atol', '-1']);
    assert.equal(negative.code, 1);
    assert.match(negative.stderr, /--atol/);
  });
});
