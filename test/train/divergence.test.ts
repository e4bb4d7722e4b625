/**
 * Divergence stops training on both engines, validation included (issue 16: `--lr 1e6` ended with
 * `validation kl Infinity`, exit 0 and a final checkpoint). One step at lr 1e6 is finite; the
 * weights it leaves overflow the encoder's variance, which only validation sees.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../../src/core/errors';
import { RunFolder } from '../../src/run/run-folder';
import { readRunInfo } from '../../src/run/run-info';
import { train } from '../../src/train/trainer';
import { runCli } from '../cli/cli-helpers';

let outDir: string;

function diverging(name: string, engine: 'tfjs' | 'ort') {
  return {
    name,
    outDir,
    model: { family: 'vae', latentSize: 2 },
    data: { dataset: { name: 'mnist', limit: 300 } },
    train: { epochs: 1, stepsPerEpoch: 1, learningRate: 1e6, backend: 'wasm', engine },
  };
}

describe('train: divergence seen by validation stops the run', function () {
  this.timeout(300_000);

  before(async () => {
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-diverge-'));
  });
  after(async () => {
    await fs.rm(outDir, { recursive: true, force: true });
  });

  for (const engine of ['tfjs', 'ort'] as const) {
    it(`engine ${engine}: a non-finite validation figure is a NON_FINITE_LOSS naming it; run.json says failed; no epoch record`, async () => {
      await assert.rejects(train(diverging(`lr-${engine}`, engine)), (error: AekitError) => {
        assert.equal(error.code, 'NON_FINITE_LOSS');
        assert.match(error.message, /^epoch 1: validation (kl|negElbo) is Infinity\. Training stopped: the model diverged \(the epoch's weights, in .*epoch-0001, are not worth resuming from\)\. Common causes: learning rate too high/);
        return true;
      });
      const folder = new RunFolder(path.join(outDir, `lr-${engine}`));
      const info = await readRunInfo(folder);
      assert.equal(info?.status, 'failed');
      assert.equal(info?.error?.code, 'NON_FINITE_LOSS');
      assert.deepEqual((await folder.readMetrics()).filter((r) => r.kind === 'epoch'), [], 'no record with Infinity in it');
    });
  }

  it('aekit train --lr 1e6 exits 1 with the one-line error (built CLI)', async () => {
    const { code, stdout, stderr } = await runCli(['train', '--model', 'vae', '--latent', '2', '--dataset', 'mnist', '--limit', '300', '--epochs', '1', '--steps-per-epoch', '1', '--lr', '1e6', '--name', 'cli', '--out-dir', outDir]);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /aekit: epoch 1: validation \w+ is Infinity\. Training stopped: the model diverged/);
    assert.doesNotMatch(stdout, /finished/);
  });
});
