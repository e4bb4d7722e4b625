import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { evaluate } from '../../src/eval/evaluate';
import { loadTarget } from '../../src/eval/target';
import { RunFolder } from '../../src/run/run-folder';
import { TINY_AE, tinyRun } from './helpers';

describe('eval: loadTarget reads the run a target belongs to through RunFolder', function () {
  let dir: string;
  let run: string;
  const logged = () => {
    const warnings: string[] = [];
    return { warnings, logger: { error() {}, info() {}, debug() {}, warn: (m: string) => warnings.push(m) } };
  };

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-eval-target-'));
    run = await tinyRun(dir, 'ae', TINY_AE, undefined, { seed: 4 });
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("a run folder, its export folder and one artifact in it: the run's dataset without its limit, model and seed", async () => {
    for (const target of [run, path.join(run, 'onnx'), path.join(run, 'onnx', 'encoder.onnx')]) {
      const loaded = await loadTarget(target);
      try {
        assert.deepEqual(loaded.runDataset, { name: 'mnist' }, target);
        assert.equal(loaded.runSeed, 4);
        assert.equal(loaded.runModel?.family, 'ae');
        assert.equal(loaded.runConfigPath, new RunFolder(run).configPath);
      } finally {
        await loaded.release();
      }
    }
  });

  it('a run config that does not resolve: a warning, and the artifacts alone', async () => {
    const broken = path.join(dir, 'broken');
    await fs.cp(path.join(run, 'onnx'), path.join(broken, 'onnx'), { recursive: true });
    await fs.writeFile(path.join(broken, 'config.json'), JSON.stringify({ name: 'broken', model: { family: 'ae' }, data: { dataset: { name: 'mnist' } }, train: { seed: -1 } }));
    const { warnings, logger } = logged();
    const loaded = await loadTarget(broken, { logger });
    try {
      assert.deepEqual([loaded.runDataset, loaded.runSeed, loaded.runModel], [undefined, undefined, undefined]);
      assert.match(warnings.join('\n'), /ignoring the run config \(.*broken.config\.json: train\.seed: .*\); evaluating with what the artifacts record/);
    } finally {
      await loaded.release();
    }
  });

  it("exported artifacts older than the run's latest checkpoint: a warning to re-export", async () => {
    const latest = new RunFolder(run).latestCheckpointPath;
    const later = new Date(Date.now() + 60_000);
    await fs.utimes(latest, later, later);
    const { warnings, logger } = logged();
    const loaded = await loadTarget(run, { logger });
    await loaded.release();
    assert.match(warnings.join('\n'), /onnx is older than the run's latest checkpoint; re-run 'aekit export'/);
  });

  it('a run with no checkpoint (killed before its first): the error says so before any export is announced', async () => {
    const bare = path.join(dir, 'bare');
    await fs.mkdir(bare);
    await fs.copyFile(new RunFolder(run).configPath, new RunFolder(bare).configPath);
    const lines: string[] = [];
    const logger = { error() {}, debug() {}, info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
    await assert.rejects(loadTarget(bare, { logger }), { code: 'BAD_CHECKPOINT', message: /bare: this run has no complete checkpoint yet \(it stopped before its first was written\); train it with aekit train --resume/ });
    assert.deepEqual(lines.filter((l) => /export/.test(l)), []);
  });

  it('counts asked for beyond the data are reported with the count used (--n 99999999)', async () => {
    const { warnings, logger } = logged();
    const report = await evaluate(run, { data: path.resolve(__dirname, '..', '..', 'fixtures', 'omniglot-mini'), count: 99_999_999, latentTrainCount: 500_000, metrics: ['ssim'], figures: false, logger });
    const used = report.count;
    assert.ok(used > 1 && used < 1000, `used ${used}`);
    assert.match(warnings.join('\n'), new RegExp(`count \\(--n\\) 99,999,999 is more than there is: using ${used.toLocaleString('en-US')} \\(the test split has ${used} images, the training split \\d+ images\\)`));
    assert.match(warnings.join('\n'), /latentTrainCount \(--latent-n\) 500,000 is more than there is: using \d+ \(the training split has \d+ images\)/);
  });
});
