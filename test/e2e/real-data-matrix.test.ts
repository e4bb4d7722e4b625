/**
 * The real-data matrix (issue 14): data as people have it, crossed with one family of each kind.
 * The sets come from scripts/make-real-data-matrix.ts (seeded) into a temporary folder: a flat
 * folder, a single class, 5 images, 64x64 RGB, 105x105 1-bit PNGs (at their own size and at
 * 28x28), mixed formats among junk files, and a gzipped IDX pair. Each cell trains on both engines
 * (tfjs, and the default auto, which picks ort) and checks that they agree, exports with
 * verification on onnxruntime-node and -web, evaluates through the run folder, runs one
 * `aekit latent` verb through the built CLI and decodes (a classifier: classifies) through
 * `aekit serve`'s API. Where a combination is not meaningful (a cvae on unlabelled images, a DCGAN
 * on 105x105, a latent verb on a model without an encoder, evaluating a set that leaves no test image),
 * the cell checks the clear error instead. The mixed-formats cvae runs every verb through the
 * built CLI, as a user types them.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isAekitError } from '../../src/core/errors';
import { loadDataset } from '../../src/data/registry';
import type { FolderDataset } from '../../src/data/types';
import { evaluate } from '../../src/eval';
import { getFamily } from '../../src/models';
import { makeRealDataMatrix } from '../../scripts/make-real-data-matrix';
import type { MatrixSet, MatrixSetName } from '../../scripts/make-real-data-matrix';
import { runCli } from '../cli/cli-helpers';
import { startServeCli, stopServeCli } from '../serve/helpers';
import type { ServeProcess } from '../serve/helpers';
import {
  DATA_CASES,
  MATRIX_FAMILIES,
  evaluateRun,
  expectRefusal,
  exportVerified,
  hasMlp,
  labelRefusal,
  readShape,
  runConfig,
  runLatentVerb,
  serveDecode,
  trainBothEngines,
} from './matrix';
import type { DataCase } from './matrix';

/** The cell every verb of which runs through the built CLI. */
const CLI_CELL = { case: 'mixed', family: 'cvae' } as const;

describe('e2e: the real-data matrix @slow', function () {
  this.timeout(300_000);
  let dir: string;
  let sets: Record<MatrixSetName, MatrixSet>;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-matrix-'));
    sets = makeRealDataMatrix(path.join(dir, 'data'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('the generated sets read as written: images, classes, and the files skipped by reason', async () => {
    for (const c of DATA_CASES) {
      const set = sets[c.set];
      const [train, test] = await Promise.all([loadDataset(c.dataset(set), 'train', 1), loadDataset(c.dataset(set), 'test', 1)]);
      assert.equal(train.count + test.count, set.images, c.name);
      assert.deepEqual(train.classNames, set.classNames, c.name);
      if (set.name !== 'idx') assert.deepEqual((train as FolderDataset).report.skipped, set.skipped, c.name);
    }
  });

  for (const c of DATA_CASES) {
    describe(`${c.name}: ${c.about}`, () => {
      if (c.name === 'omniglot105') {
        it('conv autoencoders are refused at 105x105, naming the fix, before a run folder is made', async () => {
          for (const family of MATRIX_FAMILIES.filter(hasMlp)) {
            await expectRefusal(runConfig(dir, c, sets[c.set], family, 'auto', getFamily(family).tinyConfig), /needs image height and width divisible by 4, found 105x105; use fewer convChannels or resize the data/);
          }
        });
      }
      for (const family of MATRIX_FAMILIES) {
        const cli = c.name === CLI_CELL.case && family === CLI_CELL.family;
        it(`${family}${cli ? ' (built CLI)' : ''}`, async () => {
          const set = sets[c.set];
          const refusal = labelRefusal(family, set) ?? c.refusal?.(family);
          if (refusal) {
            for (const engine of ['tfjs', 'auto'] as const) await expectRefusal(runConfig(dir, c, set, family, engine), refusal);
            return;
          }
          if (cli) return cliCell(dir, c, set, family);
          const run = await trainBothEngines(dir, c, set, family);
          const onnxDir = await exportVerified(run.runDir, family);
          if (set.images < 10) {
            // 10% of 5 images held out for testing is none: nothing to evaluate on, said plainly.
            await assert.rejects(evaluate(run.runDir), (error: unknown) => isAekitError(error) && error.code === 'BAD_DATA' && /no test images to evaluate on: the 10% of its 5 images held out for testing is none/.test(error.message));
          } else {
            await evaluateRun(run.runDir, family, c.dataset(set), set, path.join(dir, 'fid-cache'));
          }
          await runLatentVerb(c, set, family, onnxDir);
          await serveDecode(onnxDir, family, readShape(c, set));
        });
      }
    });
  }
});

/** The mixed-formats cvae as a user types it: train (both engines), export, eval, latent classify, serve. */
async function cliCell(dir: string, c: DataCase, set: MatrixSet, family: string): Promise<void> {
  const tiny = getFamily(family).tinyConfig as { convChannels: number[]; latentSize: number; hiddenSizes: number[] };
  const trainArgs = [
    'train', '--model', family, '--data', set.path, '--image-size', '16x16', '--channels', '3',
    '--set', `model.convChannels=${JSON.stringify(tiny.convChannels)}`, '--latent', String(tiny.latentSize), '--set', `model.hiddenSizes=${JSON.stringify(tiny.hiddenSizes)}`,
    '--epochs', '1', '--batch-size', '8', '--seed', '1', '--out-dir', dir,
  ];
  const readLine = `read 22 images from ${set.path} (2 classes); skipped 6: not an image: 2 (.csv 1, .txt 1), unsupported image format: 1 (GIF 1), empty file: 1, corrupt PNG: 1, truncated JPEG: 1 (AEKIT_LOG=debug lists them)`;
  for (const engine of ['tfjs', 'auto']) {
    const trained = await runCli([...trainArgs, '--engine', engine, '--name', `cli-${c.name}-${family}-${engine}`]);
    assert.equal(trained.code, 0, trained.stderr);
    assert.ok(trained.stderr.split('\n').includes(readLine), trained.stderr);
    assert.match(trained.stderr, engine === 'auto' ? /engine: auto -> ort \(ort-node-cpu/ : /engine: tfjs/);
    assert.match(trained.stdout, /^finished 1 epochs \(3 steps\)$/m);
  }
  const run = path.join(dir, `cli-${c.name}-${family}-auto`);
  const onnxDir = path.join(run, 'onnx');
  const exported = await runCli(['export', run, '--out', onnxDir]);
  assert.equal(exported.code, 0, exported.stderr);
  for (const runtime of ['ort-node-cpu', 'ort-web-wasm']) assert.equal(exported.stdout.match(new RegExp(`verify ${runtime}: max \\|onnx - tfjs\\| = `, 'g'))?.length, 2, exported.stdout);

  const evaluated = await runCli(['eval', run, '--n', '32', '--json']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const report = JSON.parse(evaluated.stdout) as { target: { family: string }; dataset: { spec: unknown; testCount: number }; ssim: { mean: number }; elbo: { elbo: number } };
  assert.equal(report.target.family, family);
  assert.deepEqual(report.dataset.spec, { name: 'folder', path: set.path, height: 16, width: 16, channels: 3 });
  assert.equal(report.dataset.testCount, 2);
  assert.ok(Number.isFinite(report.ssim.mean) && Number.isFinite(report.elbo.elbo), evaluated.stdout);

  const classified = await runCli(['latent', 'classify', path.join(onnxDir, 'encoder.onnx'), '--data', set.path, '--classifiers', 'knn']);
  assert.equal(classified.code, 0, classified.stderr);
  assert.match(classified.stdout, /^2 classes, \d+ training and \d+ test images \(per-class split\)/);
  assert.ok(classified.stderr.split('\n').includes(readLine), classified.stderr);

  let served: ServeProcess | undefined;
  try {
    served = await startServeCli([onnxDir]);
    const response = await fetch(`${served.url}/v1/models/cli-${c.name}-${family}-auto/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'image/png' },
      body: JSON.stringify({ z: [Array.from({ length: tiny.latentSize }, (_, i) => i / 2 - 0.5)], label: 1 }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(response.headers.get('content-type'), 'image/png');
  } finally {
    await stopServeCli(served);
  }
}
