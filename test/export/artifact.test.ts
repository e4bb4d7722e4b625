import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { AekitError } from '../../src/core/errors';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { ArtifactMetadata, readMetadata, writeMetadata } from '../../src/export';
import { exportLayersModel } from '../../src/export/export';
import { verifyOnnx } from '../../src/export/verify';
import { TestModel, buildTestModel } from './models';

function rejectsWith(code: string, ...fragments: string[]): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof AekitError, `expected an AekitError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const f of fragments) assert.ok(error.message.includes(f), `'${f}' not in: ${error.message}`);
    return true;
  };
}

function graphOf(bytes: Uint8Array): onnx.GraphProto {
  return onnx.ModelProto.decode(bytes).graph as onnx.GraphProto;
}

const dims = (v: onnx.IValueInfoProto) => (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || Number(d.dimValue));

describe('export: artifact metadata, layout, names and errors', function () {
  this.timeout(300_000);
  let dir: string;
  let cvae: TestModel;

  before(async () => {
    await useBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'aekit-export-'));
    cvae = buildTestModel('cvae-decoder');
  });

  after(() => {
    cvae.model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('metadata', () => {
    const full = {
      family: 'cvae',
      latentSize: 4,
      numClasses: 5,
      labelInput: { name: 'label', encoding: 'one-hot' as const },
      valueRange: 'unit' as const,
      dataset: 'mnist',
      runId: 'run-123',
      createdAt: '2025-02-03T04:05:06.000Z',
      trainingMetrics: { elbo: -101.5, recon: 80.25 },
      extra: { note: 'made in a test' },
    };

    it('round-trips every field through metadata_props (bytes and file path)', async () => {
      const result = await exportLayersModel(cvae.model, { part: 'decoder', metadata: full });
      const expected: ArtifactMetadata = {
        ...full,
        aekitVersion: (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version,
        part: 'decoder',
        inputs: [
          { name: 'z', shape: ['batch', 4], layout: 'NC', dtype: 'float32' },
          { name: 'label', shape: ['batch', 5], layout: 'NC', dtype: 'float32' },
        ],
        outputs: [{ name: 'image', shape: ['batch', 1, 6, 4], layout: 'NCHW', dtype: 'float32' }],
        imageShape: { channels: 1, height: 6, width: 4 },
        outputActivation: 'sigmoid',
      };
      assert.deepEqual(result.metadata, expected);
      assert.deepEqual(readMetadata(result.bytes), expected);
      const path = join(dir, 'cvae.onnx');
      writeFileSync(path, result.bytes);
      assert.deepEqual(readMetadata(path), expected);
      const keys = onnx.ModelProto.decode(result.bytes).metadataProps.map((p) => p.key);
      assert.ok(keys.includes('aekit.labelInput') && keys.every((k) => k?.startsWith('aekit.')));
    });

    it('writeMetadata replaces aekit keys and keeps foreign ones', async () => {
      const result = await exportLayersModel(cvae.model, { part: 'decoder', metadata: full });
      const model = onnx.ModelProto.decode(result.bytes);
      model.metadataProps.push(onnx.StringStringEntryProto.create({ key: 'author', value: 'someone' }));
      const rewritten = writeMetadata(onnx.ModelProto.encode(model).finish(), { ...result.metadata, runId: 'run-456' });
      assert.equal(readMetadata(rewritten).runId, 'run-456');
      const props = onnx.ModelProto.decode(rewritten).metadataProps;
      assert.equal(props.find((p) => p.key === 'author')?.value, 'someone');
      assert.equal(props.filter((p) => p.key === 'aekit.runId').length, 1);
    });

    it('names the file and the key when a required key is missing or invalid', async () => {
      const result = await exportLayersModel(cvae.model, { part: 'decoder', metadata: full });
      const model = onnx.ModelProto.decode(result.bytes);
      model.metadataProps = model.metadataProps.filter((p) => p.key !== 'aekit.family');
      const missing = join(dir, 'missing-family.onnx');
      writeFileSync(missing, onnx.ModelProto.encode(model).finish());
      assert.throws(() => readMetadata(missing), rejectsWith('BAD_DATA', missing, 'aekit.family'));

      const bad = onnx.ModelProto.decode(result.bytes);
      bad.metadataProps.find((p) => p.key === 'aekit.valueRange')!.value = '"bright"';
      assert.throws(() => readMetadata(onnx.ModelProto.encode(bad).finish()), rejectsWith('BAD_DATA', 'aekit.valueRange'));

      const garbage = join(dir, 'garbage.onnx');
      writeFileSync(garbage, 'not a model at all');
      assert.throws(() => readMetadata(garbage), rejectsWith('BAD_DATA', garbage));
      assert.throws(() => readMetadata(join(dir, 'absent.onnx')), rejectsWith('FILE_NOT_FOUND', 'absent.onnx'));
    });

    it('rejects a label input that is not a model input', async () => {
      await assert.rejects(
        exportLayersModel(cvae.model, { part: 'decoder', metadata: { ...full, labelInput: { name: 'y', encoding: 'one-hot' } } }),
        rejectsWith('BAD_ARGUMENT', "'y'", 'z, label'),
      );
      await assert.rejects(exportLayersModel(cvae.model, { part: 'decoder', metadata: { ...full, numClasses: 7 } }), rejectsWith('BAD_ARGUMENT', 'numClasses'));
    });
  });

  describe('layout and names', () => {
    it('declares a symbolic batch and NCHW image inputs', async () => {
      const encoder = buildTestModel('conv-encoder');
      try {
        const result = await exportLayersModel(encoder.model, { part: encoder.part, metadata: encoder.metadata });
        const graph = graphOf(result.bytes);
        assert.deepEqual(dims(graph.input[0]), ['batch', 3, 17, 15]);
        assert.deepEqual(result.inputs[0], { name: 'image', shape: ['batch', 3, 17, 15], layout: 'NCHW', dtype: 'float32' });
        assert.deepEqual(graph.output.map((o) => o.name), ['mu', 'logvar']);
        assert.deepEqual(dims(graph.output[0]), ['batch', 5]);
        assert.equal(Number(onnx.ModelProto.decode(result.bytes).opsetImport[0].version), 17);
      } finally {
        encoder.model.dispose();
      }
    });

    it('uses input/output name overrides', async () => {
      const result = await exportLayersModel(cvae.model, {
        part: 'decoder',
        metadata: { family: 'cvae', valueRange: 'unit', dataset: 'x', runId: 'r', labelInput: { name: 'onehot', encoding: 'one-hot' } },
        inputNames: ['latent', 'onehot'],
        outputNames: ['x_hat'],
      });
      assert.deepEqual(graphOf(result.bytes).input.map((i) => i.name), ['latent', 'onehot']);
      assert.deepEqual(result.outputs.map((o) => o.name), ['x_hat']);
      await verifyOnnx(cvae.model, result.bytes, { seed: 3, runtimes: ['ort-node-cpu'] });
      await assert.rejects(
        exportLayersModel(cvae.model, { part: 'decoder', metadata: { family: 'c', valueRange: 'unit', dataset: 'x', runId: 'r' }, inputNames: ['a'] }),
        rejectsWith('BAD_ARGUMENT', '1 input names', '2 inputs'),
      );
    });

    it('keeps unknown non-batch dims symbolic', async () => {
      const tokens = tf.input({ shape: [null], name: 'tokens' });
      const embedded = tf.layers.embedding({ inputDim: 9, outputDim: 4 }).apply(tokens) as tf.SymbolicTensor;
      const projected = tf.layers.dense({ units: 2, name: 'proj' }).apply(embedded) as tf.SymbolicTensor;
      const model = tf.model({ inputs: tokens, outputs: projected });
      try {
        const result = await exportLayersModel(model, { part: 'encoder', metadata: { family: 't', valueRange: 'unit', dataset: 'x', runId: 'r' } });
        assert.deepEqual(result.inputs[0].shape, ['batch', 'tokens_dim1']);
        assert.deepEqual(result.outputs[0].shape, ['batch', 'proj_dim1', 2]);
        await verifyOnnx(model, result.bytes, { seed: 5, batch: 2 });
      } finally {
        model.dispose();
      }
    });

    it('gives each output its own name when one tensor is returned twice', async () => {
      // tfjs itself cannot run such a model (its executor returns null for the repeat), so only
      // the graph is checked: the second name comes from an Identity of the first.
      const x = tf.input({ shape: [3], name: 'x' });
      const y = tf.layers.dense({ units: 2, name: 'proj' }).apply(x) as tf.SymbolicTensor;
      const model = tf.model({ inputs: x, outputs: [y, y] });
      try {
        const result = await exportLayersModel(model, { part: 'encoder', metadata: { family: 't', valueRange: 'unit', dataset: 'x', runId: 'r' } });
        assert.deepEqual(result.outputs.map((o) => o.name), ['proj', 'proj_1']);
        const identity = graphOf(result.bytes).node.find((n) => n.opType === 'Identity');
        assert.deepEqual([identity?.input, identity?.output], [['proj'], ['proj_1']]);
      } finally {
        model.dispose();
      }
    });

    for (const opset of [13, 18, 21]) {
      it(`exports opset ${opset} on request`, async () => {
        const result = await exportLayersModel(cvae.model, { part: 'decoder', metadata: cvae.metadata, opset });
        assert.equal(Number(onnx.ModelProto.decode(result.bytes).opsetImport[0].version), opset);
        await verifyOnnx(cvae.model, result.bytes, { seed: 1, runtimes: ['ort-node-cpu'] });
      });
    }

    it('refuses opsets outside the supported range', async () => {
      for (const opset of [12, 22]) {
        await assert.rejects(exportLayersModel(cvae.model, { part: 'decoder', metadata: cvae.metadata, opset }), rejectsWith('BAD_ARGUMENT', `opset ${opset}`));
      }
    });
  });

  describe('unsupported models', () => {
    it('names the layer and its class for an unknown layer (SimpleRNN)', async () => {
      const x = tf.input({ shape: [5, 3] });
      const y = tf.layers.simpleRNN({ units: 4, name: 'my_rnn' }).apply(x) as tf.SymbolicTensor;
      const model = tf.model({ inputs: x, outputs: y });
      try {
        await assert.rejects(
          exportLayersModel(model, { part: 'encoder', metadata: cvae.metadata }),
          rejectsWith('EXPORT_FAILED', "'my_rnn'", "'SimpleRNN'"),
        );
      } finally {
        model.dispose();
      }
    });

    it('names the layer and its class for a custom layer', async () => {
      class TimesTwo extends tf.layers.Layer {
        static readonly className = 'TimesTwo';
        override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
          return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 2);
        }
      }
      const x = tf.input({ shape: [3] });
      const y = new TimesTwo({ name: 'doubler' }).apply(x) as tf.SymbolicTensor;
      const model = tf.model({ inputs: x, outputs: y });
      await assert.rejects(exportLayersModel(model, { part: 'encoder', metadata: cvae.metadata }), rejectsWith('EXPORT_FAILED', "'doubler'", "'TimesTwo'"));
    });

    it('refuses settings it cannot reproduce, naming the layer', async () => {
      const image = tf.input({ shape: [4, 4, 2] });
      const bn = tf.layers.batchNormalization({ axis: 1, name: 'bn_rows' }).apply(image) as tf.SymbolicTensor;
      const model = tf.model({ inputs: image, outputs: bn });
      await assert.rejects(exportLayersModel(model, { part: 'encoder', metadata: cvae.metadata }), rejectsWith('EXPORT_FAILED', "'bn_rows'", 'axis 1'));
      model.dispose();
    });
  });

  describe('verification', () => {
    it('fails naming the runtime and the worst output when the artifact disagrees with tfjs', async () => {
      const test = buildTestModel('mlp-encoder');
      try {
        const result = await exportLayersModel(test.model, { part: test.part, metadata: test.metadata });
        const head = test.model.getLayer('logvar');
        const perturbed = head.getWeights().map((w) => tf.add(w, 0.5));
        head.setWeights(perturbed);
        tf.dispose(perturbed);
        await assert.rejects(verifyOnnx(test.model, result.bytes, { seed: 1 }), rejectsWith('VERIFY_FAILED', 'ort-node-cpu', "output 'logvar'", 'tolerance 0.0001'));
      } finally {
        test.model.dispose();
      }
    });

    it('refuses an unknown runtime name, listing the valid ones', async () => {
      const result = await exportLayersModel(cvae.model, { part: 'decoder', metadata: cvae.metadata });
      await assert.rejects(
        verifyOnnx(cvae.model, result.bytes, { seed: 1, runtimes: ['ort-gpu' as 'ort-node-cpu'] }),
        rejectsWith('UNKNOWN_NAME', 'ort-gpu', 'ort-node-cpu, ort-web-wasm'),
      );
    });
  });
});
