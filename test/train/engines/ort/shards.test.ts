/**
 * Batch shards (src/train/engines/ort/shards.ts): the plan 'auto' and 'batch' make for each kind of
 * model, the row split and the gradient combination, and real runs: a convolutional VAE, CVAE
 * (labels split by rows) and DAE (noise split by rows) trained on two shards, the second on a
 * worker thread, end with the weights, Adam moments and logged terms of the same run on one
 * session, an odd last batch included.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../../../../src/core/errors';
import type { Logger } from '../../../../src/core/log';
import { getFamily } from '../../../../src/models';
import type { BaseModelConfig } from '../../../../src/models';
import { RunFolder } from '../../../../src/run/run-folder';
import type { StepRecord } from '../../../../src/run/run-folder';
import { compilePhases } from '../../../../src/train/engines/ort/compile';
import { BATCH_SHARDS, combineInto, planShards, shardRows } from '../../../../src/train/engines/ort/shards';
import { ADAM_DEFAULTS } from '../../../../src/train/optim';
import { train } from '../../../../src/train/trainer';
import { testShape } from '../../../models/describe-family';
import { checkpointTensors } from '../checkpoint-tensors';
import { relativeDifference } from '../helpers';

function compiled(config: Record<string, unknown>) {
  const family = getFamily(config.family as string);
  const model = family.build(family.configSchema.parse(config) as BaseModelConfig, testShape(family.name), 1);
  try {
    return compilePhases(model, { batchSize: 8, adam: ADAM_DEFAULTS, optimizer: 'host', kernelLayout: 'onnx' });
  } finally {
    model.dispose();
  }
}

describe('train/engines/ort/shards', function () {
  this.timeout(300_000);

  describe('the plan', () => {
    const conv = compiled({ family: 'vae', architecture: 'conv', convChannels: [4, 8], latentSize: 3 });

    it("'auto' shards a convolutional VAE in two, each shard with half the threads", () => {
      assert.deepEqual(planShards('auto', 2, 64, conv, 'ort-node-cpu'), { shards: 2, threadsPerShard: 1, why: '2 batch shards x 1 thread' });
      assert.equal(planShards('auto', 8, 64, conv, 'ort-node-cpu').threadsPerShard, 4);
    });

    it("'auto' keeps intra-op threads, saying why, for MLPs, BatchNorm, batch-level penalties, one thread and graph Adam", () => {
      const cases: [string, ReturnType<typeof compiled>, number, string][] = [
        ['mlp', compiled({ family: 'vae', architecture: 'mlp', hiddenSizes: [8], latentSize: 3 }), 2, 'no convolutions'],
        ['batchnorm', compiled({ family: 'vae', architecture: 'conv', convChannels: [4, 8], latentSize: 3, batchNorm: true }), 2, 'updated from batch statistics (BatchNorm)'],
        ['sparse-ae', compiled({ ...getFamily('sparse-ae').tinyConfig }), 2, "the loss of phase 'autoencoder' is not a batch mean of per-image values"],
        ['dcgan', compiled({ ...getFamily('dcgan').tinyConfig }), 2, 'is not a batch mean'],
        ['one thread', conv, 1, '1 thread'],
      ];
      for (const [label, phases, threads, why] of cases) {
        const plan = planShards('auto', threads, 64, phases, 'ort-node-cpu');
        assert.equal(plan.shards, 1, label);
        assert.ok(plan.why.includes(why), `${label}: ${plan.why}`);
      }
      assert.match(planShards('auto', 2, 64, conv, 'ort-web-wasm').why, /keeps Adam in the graph/);
      assert.equal(planShards('intra-op', 2, 64, conv, 'ort-node-cpu').shards, 1);
    });

    it("'batch' on a model that cannot be sharded is a BAD_CONFIG naming train.ortParallel and the reason", () => {
      const bn = compiled({ family: 'vae', architecture: 'conv', convChannels: [4, 8], latentSize: 3, batchNorm: true });
      assert.throws(
        () => planShards('batch', 2, 64, bn, 'ort-node-cpu'),
        (e: unknown) => e instanceof AekitError && e.code === 'BAD_CONFIG' && /train\.ortParallel 'batch' cannot shard this run: .*BatchNorm/.test(e.message),
      );
      assert.throws(() => planShards('batch', 1, 64, conv, 'ort-node-cpu'), /1 thread/);
      // 'batch' shards an MLP when asked (auto does not: intra-op threads were faster there).
      assert.equal(planShards('batch', 2, 64, compiled({ family: 'vae', architecture: 'mlp', hiddenSizes: [8], latentSize: 3 }), 'ort-node-cpu').shards, BATCH_SHARDS);
    });

    it('rows: even splits, the remainder to the first shards, fewer shards than rows never', () => {
      assert.deepEqual(shardRows(64, 2), [32, 32]);
      assert.deepEqual(shardRows(9, 2), [5, 4]);
      assert.deepEqual(shardRows(1, 2), [1]);
      assert.deepEqual(shardRows(10, 4), [3, 3, 2, 2]);
    });

    it('combineInto: the row-weighted mean of the shards and its sum of squares', () => {
      const into = Float32Array.of(1, 2, 3);
      const squares = combineInto(into, [Float32Array.of(3, 4, 5)], [0.75, 0.25]);
      assert.deepEqual([...into], [1.5, 2.5, 3.5]);
      assert.equal(squares, 1.5 ** 2 + 2.5 ** 2 + 3.5 ** 2);
      const three = Float32Array.of(1);
      combineInto(three, [Float32Array.of(2), Float32Array.of(4)], [0.5, 0.25, 0.25]);
      assert.deepEqual([...three], [2]);
    });
  });

  describe('real runs: two shards train as one session does', () => {
    let outDir: string;
    before(async () => {
      outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-shards-'));
    });
    after(async () => {
      await fs.rm(outDir, { recursive: true, force: true });
    });

    const quiet = (debug: string[]): Logger => ({ error() {}, warn() {}, info() {}, debug: (m) => debug.push(m) });

    async function run(name: string, model: Record<string, unknown>, parallel: 'batch' | 'intra-op', threads: number) {
      const debug: string[] = [];
      const result = await train(
        { name, outDir, model, data: { dataset: { name: 'mnist', limit: 41 } }, train: { epochs: 2, batchSize: 16, logEvery: 1, seed: 5, validationFraction: 0, backend: 'wasm', engine: 'ort', ortThreads: threads, ortParallel: parallel } },
        { logger: quiet(debug) },
      );
      const steps = (await new RunFolder(result.runDir).readMetrics()).filter((r): r is StepRecord => r.kind === 'step');
      return { ...(await checkpointTensors(result.runDir)), steps, debug };
    }

    const models: [string, Record<string, unknown>][] = [
      ['vae', { family: 'vae', architecture: 'conv', convChannels: [4, 8], latentSize: 3 }],
      ['cvae (one-hot labels split by rows)', { family: 'cvae', convChannels: [4, 8], latentSize: 3 }],
      ['dae (corruption noise split by rows)', { family: 'dae', convChannels: [4, 8], latentSize: 3 }],
    ];
    for (const [label, model] of models) {
      it(`${label}: 41 images in batches of 16 (16 + 16 + 9 -> shards 8 + 8 and 5 + 4), 2 epochs`, async () => {
        const slug = label.split(' ')[0];
        const one = await run(`${slug}-one`, model, 'intra-op', 1);
        const sharded = await run(`${slug}-sharded`, model, 'batch', 2);
        assert.ok(sharded.debug.some((m) => m.includes('for batches of 16 in 2 shards of 8 + 8 rows')), sharded.debug.join('\n'));
        assert.ok(sharded.debug.some((m) => m.includes('for batches of 9 in 2 shards of 5 + 4 rows')), 'the last, odd batch is sharded too');
        assert.ok(one.debug.every((m) => !m.includes('shards')));
        assert.deepEqual(sharded.steps.map((s) => s.step), one.steps.map((s) => s.step));
        one.steps.forEach((record, i) => {
          for (const [term, value] of Object.entries(record.terms)) {
            const diff = Math.abs(sharded.steps[i].terms[term] - value) / Math.max(1e-6, Math.abs(value));
            assert.ok(diff < 1e-5, `step ${record.step} ${term}: ${sharded.steps[i].terms[term]} vs ${value}`);
          }
        });
        assert.equal(sharded.steps.length, 6, 'three steps per epoch');
        for (const [name, expected] of one.tensors) {
          const diff = relativeDifference(sharded.tensors.get(name)!, expected);
          assert.ok(diff < 1e-4, `${name}: relative difference ${diff.toExponential(2)}`);
        }
      });
    }
  });
});
