/**
 * What a sweep rerun does with a run folder, read from the folder as it is: the newest whole
 * checkpoint (a run killed before latest.json is resumed, not restarted) and run.json (a run whose
 * final validation failed is resumed, not skipped as finished; one that diverged in validation is
 * skipped, as after the step guard).
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveRunConfig } from '../../src/run/config';
import { RunFolder } from '../../src/run/run-folder';
import { collectRun, planRun } from '../../src/train/sweep/plan';
import type { SweepPoint } from '../../src/train/sweep/grid';
import { train } from '../../src/train/trainer';
import type { SampleMetricsHook } from '../../src/train/trainer';

let outDir: string;

function point(name: string, train_: Record<string, unknown> = {}): SweepPoint {
  const config = resolveRunConfig({
    name,
    outDir,
    model: { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 2 },
    data: { dataset: { name: 'mnist', limit: 120 } },
    train: { epochs: 2, batchSize: 40, backend: 'wasm', ...train_ },
  });
  return { name, values: {}, config };
}

/** A validation metric that throws at its `failAt`-th call. */
function failingAt(failAt: number): SampleMetricsHook {
  let calls = 0;
  return {
    count: 4,
    async compute() {
      calls += 1;
      if (calls === failAt) throw new Error('validation failed');
      return {};
    },
  };
}

describe('train/sweep/plan: a rerun plans from the newest checkpoint and run.json', function () {
  this.timeout(300_000);

  before(async () => {
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-plan-'));
  });
  after(async () => {
    await fs.rm(outDir, { recursive: true, force: true });
  });

  it('a run whose final validation failed is resumed, and collected as failed', async () => {
    const p = point('final-failed');
    await assert.rejects(train(p.config, { sampleMetrics: failingAt(2) }), /validation failed/);
    const plan = await planRun(p);
    assert.equal(plan.action, 'resumed');
    assert.equal(plan.reason, 'final');
    assert.equal((await collectRun(plan, path.join(outDir, 'none.log'))).status, 'failed');
  });

  it('a run that diverged in validation is skipped and collected as diverged', async () => {
    const p = point('diverged', { epochs: 1, stepsPerEpoch: 1, learningRate: 1e6 });
    await assert.rejects(train(p.config), /validation \w+ is Infinity/);
    const plan = await planRun(p);
    assert.equal(plan.action, 'skipped');
    assert.equal((await collectRun(plan, path.join(outDir, 'none.log'))).status, 'diverged');
  });

  it('a run killed after its first checkpoint but before latest.json is resumed, not restarted', async () => {
    const p = point('no-latest');
    const result = await train(p.config);
    const folder = new RunFolder(result.runDir);
    await fs.rm(path.join(folder.checkpointsDir, 'epoch-0002'), { recursive: true });
    await fs.rm(folder.latestCheckpointPath);
    await folder.writeJson(folder.runInfoPath, { status: 'running', pid: 2 ** 22 + 7, host: os.hostname() });
    const plan = await planRun(p);
    assert.equal(plan.action, 'resumed');
    assert.equal(plan.reason, 'epoch');
    assert.equal((await collectRun(plan, path.join(outDir, 'none.log'))).status, 'failed');
  });
});
