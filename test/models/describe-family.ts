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
import { getFamily } from '../../src/models';
import type { DataShape, FamilyModel, StepContext, TrainBatch } from '../../src/models';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint';
import { Adam } from '../../src/train/optim';
import { exportLayersModel } from '../../src/export/export';
import { artifactMetadata } from '../../src/export/run-export';
import { verifyOnnx } from '../../src/export/verify';

export const TEST_SHAPE: DataShape = { height: 8, width: 8, channels: 1, numClasses: 3, valueRange: 'unit' };

export function tinyModel(name: string, seed = 1, shape: DataShape = TEST_SHAPE): FamilyModel {
  const family = getFamily(name);
  return family.build(family.configSchema.parse(family.tinyConfig), shape, seed);
}

export function tinyBatch(shape: DataShape, size = 5): TrainBatch {
  const pixels = size * shape.height * shape.width * shape.channels;
  const labels = Int32Array.from({ length: size }, (_, i) => i % shape.numClasses);
  return {
    x: tf.tensor4d(Float32Array.from({ length: pixels }, (_, i) => 0.5 + 0.5 * Math.sin(i * 0.7)), [size, shape.height, shape.width, shape.channels]),
    labels: tf.tensor1d(labels, 'int32'),
    oneHot: tf.oneHot(tf.tensor1d(labels, 'int32'), shape.numClasses).toFloat() as tf.Tensor2D,
    size,
  };
}

const CTX: StepContext = { step: 0, epoch: 0, seed: 7, beta: 1 };

async function snapshot(model: FamilyModel): Promise<Float32Array[]> {
  return Promise.all(Object.values(model.parts).flatMap((p) => p!.weights.map(async (w) => (await w.read().data()) as Float32Array)));
}

/** Extra checks other stages register for every family (export parity, eval). */
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
          const batch = tinyBatch(TEST_SHAPE);
          if (model.encode) {
            const code = model.encode(batch.x, batch.oneHot);
            assert.deepEqual(code.shape, [batch.size, model.latentSize]);
          }
          if (model.decode && model.latentSize) {
            const z = model.samplePrior ? model.samplePrior(batch.size, 3) : tf.randomNormal([batch.size, model.latentSize]);
            const images = model.decode(z as tf.Tensor2D, batch.oneHot);
            assert.deepEqual(images.shape, [batch.size, TEST_SHAPE.height, TEST_SHAPE.width, TEST_SHAPE.channels]);
            const values = images.dataSync();
            assert.ok(values.every((v) => v >= 0 && v <= 1), 'unit-range decoder must output values in [0, 1]');
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
            const batch = tinyBatch(TEST_SHAPE);
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
