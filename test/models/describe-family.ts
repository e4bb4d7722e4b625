/**
 * The checklist every registered model family passes (run for each name in the registry by
 * families.test.ts): build, part shapes, one training step that changes the weights and gives a
 * finite loss, checkpoint save/load with identical outputs, and ONNX export parity.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { FAMILY_EVAL_METRICS, SAMPLE_PRIORS, getFamily } from '../../src/models';
import type { DataShape, FamilyModel, StepContext, TrainBatch } from '../../src/models';
import { loadCheckpoint, saveCheckpoint } from '../../src/run/checkpoint';
import { Adam } from '../../src/train/optim';
import { exportLayersModel } from '../../src/export/export';
import { artifactMetadata } from '../../src/export/run-export';
import { verifyOnnx } from '../../src/export/verify';

export const TEST_SHAPE: DataShape = { height: 8, width: 8, channels: 1, numClasses: 3, valueRange: 'unit' };

/** The test shape in the value range the family needs (e.g. 'symmetric' for dcgan). */
export function testShape(name: string): DataShape {
  return { ...TEST_SHAPE, valueRange: getFamily(name).valueRange ?? TEST_SHAPE.valueRange };
}

export function tinyModel(name: string, seed = 1, shape: DataShape = testShape(name)): FamilyModel {
  const family = getFamily(name);
  return family.build(family.configSchema.parse(family.tinyConfig), shape, seed);
}

/** A batch of smooth patterns in the shape's value range, with a second-domain batch `xB` (used by cyclegan). */
export function tinyBatch(shape: DataShape, size = 5): TrainBatch {
  const pixels = size * shape.height * shape.width * shape.channels;
  const labels = Int32Array.from({ length: size }, (_, i) => i % shape.numClasses);
  const [low, high] = shape.valueRange === 'unit' ? [0, 1] : [-1, 1];
  const pattern = (f: (i: number) => number) =>
    tf.tensor4d(Float32Array.from({ length: pixels }, (_, i) => low + (high - low) * (0.5 + 0.5 * f(i))), [size, shape.height, shape.width, shape.channels]);
  return {
    x: pattern((i) => Math.sin(i * 0.7)),
    xB: pattern((i) => Math.cos(i * 0.3)),
    labels: tf.tensor1d(labels, 'int32'),
    oneHot: tf.oneHot(tf.tensor1d(labels, 'int32'), shape.numClasses).toFloat() as tf.Tensor2D,
    size,
  };
}

const CTX: StepContext = { step: 0, epoch: 0, seed: 7, beta: 1 };

async function snapshot(model: FamilyModel): Promise<Float32Array[]> {
  return Promise.all(Object.values(model.parts).flatMap((p) => p!.weights.map(async (w) => (await w.read().data()) as Float32Array)));
}

/** Extra checks other stages register for every family (families.test.ts adds them, e.g. the ort engine's training step). */
export const familyChecks: { name: string; run: (family: string) => Promise<void> }[] = [];

export function describeFamily(name: string): void {
  describe(`family '${name}'`, () => {
    before(async () => {
      await useBackend('wasm');
    });

    it('builds from its tiny config with the parts it exports', () => {
      const family = getFamily(name);
      const model = tinyModel(name);
      try {
        for (const part of family.exportParts) assert.ok(model.parts[part], `missing part '${part}'`);
        assert.ok(model.phases.length >= 1);
        for (const part of family.exportParts) {
          const names = model.ioNames[part];
          assert.ok(names, `no artifact input/output names for part '${part}'`);
          assert.equal(names.inputs.length, model.parts[part]!.inputs.length, `${part}: one name per input`);
          assert.equal(names.outputs.length, model.parts[part]!.outputs.length, `${part}: one name per output`);
        }
        assert.equal(model.config.family, name);
      } finally {
        model.dispose();
      }
    });

    it('has consistent encode/decode shapes', () => {
      const model = tinyModel(name);
      try {
        tf.tidy(() => {
          const shape = testShape(name);
          const batch = tinyBatch(shape);
          if (model.encode) {
            const code = model.encode(batch.x, batch.oneHot);
            assert.deepEqual(code.shape, [batch.size, model.latentSize]);
          }
          if (model.decode && model.latentSize) {
            const z = model.samplePrior ? model.samplePrior(batch.size, 3) : tf.randomNormal([batch.size, model.latentSize]);
            const images = model.decode(z as tf.Tensor2D, batch.oneHot);
            assert.deepEqual(images.shape, [batch.size, shape.height, shape.width, shape.channels]);
            const values = images.dataSync();
            const low = shape.valueRange === 'unit' ? 0 : -1;
            assert.ok(values.every((v) => v >= low && v <= 1), `${shape.valueRange}-range decoder must output values in [${low}, 1]`);
          }
        });
      } finally {
        model.dispose();
      }
    });

    it('one training step gives finite loss terms and changes every phase\'s weights', async () => {
      const model = tinyModel(name);
      try {
        for (const phase of model.phases) {
          const before = phase.variables().map((v) => v.dataSync().slice());
          const adam = new Adam(phase.variables());
          const terms = tf.tidy(() => {
            const batch = tinyBatch(testShape(name));
            let kept: Record<string, number> = {};
            const { grads } = tf.variableGrads(() => {
              const loss = phase.loss(batch, CTX);
              kept = Object.fromEntries(Object.entries(loss.terms).map(([k, v]) => [k, v.dataSync()[0]]));
              return loss.total;
            }, phase.variables());
            adam.apply(phase.variables().map((v) => grads[v.name]), 1e-2);
            return kept;
          });
          assert.ok('total' in terms, 'loss terms must include total');
          for (const [k, v] of Object.entries(terms)) assert.ok(Number.isFinite(v), `term ${k} = ${v}`);
          const changed = phase.variables().filter((v, i) => v.dataSync().some((x, j) => x !== before[i][j])).length;
          assert.ok(changed >= phase.variables().length * 0.8, `only ${changed}/${phase.variables().length} variables changed`);
          adam.dispose();
        }
      } finally {
        model.dispose();
      }
    });

    it('declares evaluation metrics and a sampling prior that its model really supports', () => {
      const { metrics, prior } = getFamily(name).evaluation;
      const exportParts: readonly string[] = getFamily(name).exportParts;
      assert.ok(metrics.length > 0, 'at least one metric applies');
      for (const metric of metrics) assert.ok((FAMILY_EVAL_METRICS as readonly string[]).includes(metric), `unknown metric '${metric}'`);
      if (prior !== undefined) assert.ok((SAMPLE_PRIORS as readonly string[]).includes(prior), `unknown prior '${prior}'`);
      const model = tinyModel(name);
      try {
        tf.tidy(() => {
          const shape = testShape(name);
          const batch = tinyBatch(shape);
          const has = (metric: string) => (metrics as readonly string[]).includes(metric);
          if (has('reconstruction') || has('latent-classifiers')) {
            assert.ok(model.encode && exportParts.includes('encoder'), 'codes need an exported encoder');
          }
          if (has('reconstruction')) {
            assert.ok(model.decode && exportParts.includes('decoder'), 'reconstruction needs an exported decoder');
            assert.deepEqual(model.decode(model.encode!(batch.x, batch.oneHot), batch.oneHot).shape, batch.x.shape);
          }
          if (has('elbo')) assert.deepEqual([...model.ioNames.encoder!.outputs].sort(), ['logvar', 'mu'], 'the ELBO needs a Gaussian encoder');
          if (has('fid')) {
            assert.ok(prior !== undefined && model.decode, 'FID needs a prior and a decoder/generator');
            assert.ok(exportParts.includes('decoder') || exportParts.includes('generator'));
          }
          if (has('accuracy')) assert.ok(exportParts.includes('classifier'));
          if (has('translation')) assert.ok(exportParts.includes('generatorAB') && exportParts.includes('generatorBA'));
          // The declared prior is the one the model samples (fitted Gaussians are fitted by eval, from codes).
          if (prior === 'fitted-gaussian') assert.ok(model.encode, 'a fitted Gaussian is fitted to codes');
          else if (prior !== undefined) {
            const codes = model.samplePrior!(400, 1).arraySync();
            const config = model.config as { latentSize?: number; categorical?: { variables: number; classes: number } };
            const continuous = prior === 'standard-normal' ? model.latentSize! : prior === 'gaussian-and-categorical' ? config.latentSize! : 0;
            const gaussian = codes.flatMap((row) => row.slice(0, continuous));
            if (continuous > 0) {
              const mean = gaussian.reduce((a, b) => a + b, 0) / gaussian.length;
              const variance = gaussian.reduce((a, b) => a + (b - mean) ** 2, 0) / gaussian.length;
              assert.ok(Math.abs(mean) < 0.1 && Math.abs(variance - 1) < 0.15, `N(0, I) part: mean ${mean}, variance ${variance}`);
            }
            if (prior !== 'standard-normal') {
              const { variables, classes } = config.categorical!;
              assert.equal(model.latentSize, continuous + variables * classes);
              for (const row of codes) {
                for (let v = 0; v < variables; v++) {
                  const group = row.slice(continuous + v * classes, continuous + (v + 1) * classes);
                  assert.deepEqual([...group].sort(), [...Array(classes - 1).fill(0), 1], 'one-hot groups');
                }
              }
            }
          }
        });
      } finally {
        model.dispose();
      }
    });

    it('saves and loads a checkpoint with identical weights and outputs', async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), `aekit-ckpt-${name}-`));
      const model = tinyModel(name, 11);
      try {
        await saveCheckpoint(dir, 'test', model, 11, [], { epoch: 1, stepInEpoch: 0, step: 5, reason: 'epoch' });
        const loaded = await loadCheckpoint(dir);
        try {
          assert.equal(loaded.trainer.step, 5);
          const [a, b] = [await snapshot(model), await snapshot(loaded.model)];
          assert.equal(a.length, b.length);
          a.forEach((w, i) => assert.deepEqual(Array.from(w), Array.from(b[i])));
          for (const [partName, part] of Object.entries(model.parts)) {
            const inputs = part!.inputs.map((input) => tf.ones([2, ...(input.shape.slice(1) as number[])]));
            const out1 = [part!.predict(inputs)].flat() as tf.Tensor[];
            const out2 = [loaded.model.parts[partName as keyof typeof model.parts]!.predict(inputs)].flat() as tf.Tensor[];
            out1.forEach((t, i) => assert.deepEqual(Array.from(t.dataSync()), Array.from(out2[i].dataSync())));
          }
        } finally {
          loaded.model.dispose();
        }
      } finally {
        model.dispose();
        await fs.rm(dir, { recursive: true, force: true });
      }
    });

    it('exports every part to ONNX with parity on onnxruntime-node and onnxruntime-web', async () => {
      const family = getFamily(name);
      const model = tinyModel(name, 5);
      try {
        for (const part of family.exportParts) {
          const names = model.ioNames[part]!;
          const result = await exportLayersModel(model.parts[part]!, {
            part,
            metadata: {
              ...artifactMetadata(model, 'test', 'fixture'),
              ...(names.inputs.includes('label') ? { labelInput: { name: 'label', encoding: 'one-hot' as const } } : {}),
            },
            inputNames: names.inputs,
            outputNames: names.outputs,
          });
          assert.deepEqual(result.inputs.map((i) => i.name), names.inputs);
          assert.deepEqual(result.outputs.map((o) => o.name), names.outputs);
          const report = await verifyOnnx(model.parts[part]!, result.bytes, { seed: 1, batch: 3 });
          assert.deepEqual(report.runtimes.map((r) => r.runtime).sort(), ['ort-node-cpu', 'ort-web-wasm']);
          assert.ok(report.maxAbsDiff <= 1e-4, `${part}: max abs diff ${report.maxAbsDiff}`);
        }
      } finally {
        model.dispose();
      }
    });

    for (const check of familyChecks) {
      it(check.name, () => check.run(name));
    }
  });
}
