import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { AekitError } from '../../src/core/errors';
import { useBackend } from '../../src/core/tfjs-backend';
import { ExportResult, parseTritonConfig, readMetadata, writeTritonRepository } from '../../src/export';
import { exportLayersModel } from '../../src/export/export';
import { verifyOnnx } from '../../src/export/verify';
import { TestModel, buildTestModel } from './models';

const isCode = (code: string, fragment: string) => (error: unknown) =>
  error instanceof AekitError && error.code === code && error.message.includes(fragment);

describe('export: Triton model repository', function () {
  this.timeout(120_000);
  let dir: string;
  let test: TestModel;
  let exported: ExportResult;

  before(async () => {
    await useBackend('wasm');
    test = buildTestModel('cvae-decoder');
    exported = await exportLayersModel(test.model, { part: test.part, metadata: test.metadata });
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aekit-triton-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  after(() => test.model.dispose());

  it("writes <name>/1/model.onnx and a config.pbtxt that matches the model's inputs and outputs", async () => {
    const paths = await writeTritonRepository(dir, 'cvae_decoder', exported.bytes, exported, {
      maxBatchSize: 32,
      preferredBatchSizes: [4, 16],
      maxQueueDelayMicroseconds: 500,
    });
    assert.equal(paths.modelPath, join(dir, 'cvae_decoder', '1', 'model.onnx'));
    assert.deepEqual(readdirSync(join(dir, 'cvae_decoder')).sort(), ['1', 'config.pbtxt']);
    const modelBytes = Uint8Array.from(readFileSync(paths.modelPath));
    assert.deepEqual(modelBytes, exported.bytes);

    const config = parseTritonConfig(readFileSync(paths.configPath, 'utf8'));
    assert.equal(config.name, 'cvae_decoder');
    assert.equal(config.backend, 'onnxruntime');
    assert.equal(config.maxBatchSize, 32);
    assert.deepEqual(config.dynamicBatching, { preferredBatchSize: [4, 16], maxQueueDelayMicroseconds: 500 });

    // Against the ONNX graph in the repository: same names, order, and dims minus the batch.
    const graph = onnx.ModelProto.decode(modelBytes).graph as onnx.GraphProto;
    const withoutBatch = (v: onnx.IValueInfoProto) => {
      const dims = v.type?.tensorType?.shape?.dim ?? [];
      assert.equal(dims[0].dimParam, 'batch');
      return dims.slice(1).map((d) => (d.dimParam ? -1 : Number(d.dimValue)));
    };
    assert.deepEqual(
      config.inputs,
      graph.input.map((v) => ({ name: v.name, dataType: 'TYPE_FP32', dims: withoutBatch(v) })),
    );
    assert.deepEqual(
      config.outputs,
      graph.output.map((v) => ({ name: v.name, dataType: 'TYPE_FP32', dims: withoutBatch(v) })),
    );
    assert.deepEqual(config.inputs.map((i) => [i.name, i.dims]), [['z', [4]], ['label', [5]]]);
    assert.deepEqual(config.outputs.map((o) => [o.name, o.dims]), [['image', [1, 6, 4]]]);
    // And the metadata in the repository's copy still describes the same tensors.
    assert.deepEqual(readMetadata(paths.modelPath).outputs.map((o) => o.shape.slice(1)), [[1, 6, 4]]);
    await verifyOnnx(test.model, modelBytes, { seed: 9, runtimes: ['ort-node-cpu'] });
  });

  it('refuses to overwrite a model unless forced', async () => {
    await writeTritonRepository(dir, 'm', exported.bytes, exported);
    await assert.rejects(writeTritonRepository(dir, 'm', exported.bytes, exported), isCode('ALREADY_EXISTS', 'model.onnx'));
    const paths = await writeTritonRepository(dir, 'm', exported.bytes, exported, { force: true, maxBatchSize: 8 });
    assert.equal(parseTritonConfig(readFileSync(paths.configPath, 'utf8')).maxBatchSize, 8);
  });

  it('rejects bad names and batching options', async () => {
    await assert.rejects(writeTritonRepository(dir, '../escape', exported.bytes, exported), isCode('BAD_ARGUMENT', 'escape'));
    await assert.rejects(
      writeTritonRepository(dir, 'm', exported.bytes, exported, { maxBatchSize: 8, preferredBatchSizes: [16] }),
      isCode('BAD_ARGUMENT', 'preferred batch size 16'),
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  it('parses hand-written configs: comments, legacy platform, variable dims, nested lists', () => {
    const config = parseTritonConfig(`
      # a hand-edited config
      name: "vae"
      platform: "onnxruntime_onnx"
      max_batch_size: 0
      input [ { name: "z", data_type: TYPE_FP32, dims: [ -1, 16 ] } ]
      output [
        { name: "image" data_type: TYPE_FP32 dims: [ 1, 28, 28 ] }
      ]
      instance_group [ { count: 2 kind: KIND_CPU } ]
      dynamic_batching { }
    `);
    assert.equal(config.platform, 'onnxruntime_onnx');
    assert.equal(config.maxBatchSize, 0);
    assert.deepEqual(config.inputs, [{ name: 'z', dataType: 'TYPE_FP32', dims: [-1, 16] }]);
    assert.deepEqual(config.outputs[0].dims, [1, 28, 28]);
    assert.deepEqual(config.dynamicBatching, { preferredBatchSize: [], maxQueueDelayMicroseconds: undefined });
  });

  it('reports the line of malformed text', () => {
    assert.throws(() => parseTritonConfig('name: "x"\ninput [ { name: "a" '), isCode('BAD_DATA', 'line 2'));
    assert.throws(() => parseTritonConfig('name: "x"\n}\n'), isCode('BAD_DATA', 'line 2'));
  });
});
