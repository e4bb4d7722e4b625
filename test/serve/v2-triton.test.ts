/**
 * The /v2 models are the models of the repository `aekit export --triton` writes: the same names
 * (`<run>-<part>`), versions, tensor names, datatypes and shapes as its config.pbtxt files, and a
 * client that knows only the protocol (metadata, then infer) gets what onnxruntime computes on the
 * repository's model.onnx, the file Triton's onnxruntime backend would serve.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../../src/core/rng';
import { parseTritonConfig } from '../../src/export';
import { exportRun } from '../../src/export/run-export';
import { startServer } from '../../src/serve';
import type { AekitServer } from '../../src/serve';
import { ortReference, request, testArtifacts } from './helpers';

interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
}

describe('serve: v2 models are those of the `aekit export --triton` repository', function () {
  this.timeout(120_000);
  let tmp: string;
  let repo: string;
  let server: AekitServer;

  before(async () => {
    const artifacts = await testArtifacts();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'aekit-v2-triton-'));
    repo = path.join(tmp, 'triton');
    for (const [name, runDir] of Object.entries(artifacts.runs)) {
      await exportRun(runDir, { out: path.join(tmp, 'onnx', name), triton: repo, verify: false });
    }
    server = await startServer({ models: path.join(tmp, 'onnx'), port: 0 });
  });
  after(async () => {
    if (server) await server.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('has one v2 model per repository model, with its name, versions and the config.pbtxt tensors (batch -1 first)', async () => {
    const names = readdirSync(repo).sort();
    assert.deepEqual(names, ['ae-decoder', 'ae-encoder', 'cvae-decoder', 'cvae-encoder', 'vae-decoder', 'vae-encoder']);
    const documented = (await request(`${server.url}/openapi.json`)).json.paths['/v2/models/{model_name}'].get.parameters[0].schema.enum;
    assert.deepEqual([...documented].sort(), names);
    for (const name of names) {
      const config = parseTritonConfig(readFileSync(path.join(repo, name, 'config.pbtxt'), 'utf8'));
      assert.equal(config.name, name);
      assert.equal(config.backend, 'onnxruntime');
      const versions = readdirSync(path.join(repo, name), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
      const metadata = (await request(`${server.url}/v2/models/${name}`)).json;
      assert.equal(metadata.name, name);
      assert.deepEqual(metadata.versions, versions);
      // Triton reports the onnxruntime backend's models with this platform.
      assert.equal(metadata.platform, 'onnxruntime_onnx');
      const asV2 = (t: { name: string; dataType: string; dims: number[] }): Tensor => ({ name: t.name, datatype: t.dataType.replace(/^TYPE_/, ''), shape: [-1, ...t.dims] });
      assert.ok(config.maxBatchSize > 0, 'a batching model: Triton puts -1 first in the metadata shapes');
      assert.deepEqual(metadata.inputs, config.inputs.map(asV2), `${name} inputs`);
      assert.deepEqual(metadata.outputs, config.outputs.map(asV2), `${name} outputs`);
    }
  });

  it("a client written from the protocol alone (metadata, then infer) gets onnxruntime's outputs on the repository's model.onnx", async () => {
    const rng = new Rng(7);
    for (const name of readdirSync(repo).sort()) {
      const metadata = (await request(`${server.url}/v2/models/${name}`)).json as { inputs: Tensor[]; outputs: Tensor[] };
      const rows = 3;
      const inputs = metadata.inputs.map((t) => {
        const shape = [rows, ...t.shape.slice(1)];
        // Values in [0, 1]: valid images, latents and soft labels alike.
        const data = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.fround(rng.next()));
        return { name: t.name, shape, datatype: t.datatype, data };
      });
      const res = await request(`${server.url}/v2/models/${name}/versions/1/infer`, { body: { id: name, inputs } });
      assert.equal(res.status, 200, `${name}: ${res.bytes.toString('utf8').slice(0, 300)}`);
      assert.equal(res.json.id, name);
      const expected = await ortReference(
        path.join(repo, name, '1', 'model.onnx'),
        Object.fromEntries(inputs.map((i) => [i.name, { data: Float32Array.from(i.data), dims: i.shape }])),
      );
      assert.deepEqual(res.json.outputs.map((o: Tensor) => o.name), metadata.outputs.map((t) => t.name));
      for (const output of res.json.outputs as (Tensor & { data: number[] })[]) {
        assert.deepEqual(output.shape, [rows, ...metadata.outputs.find((t) => t.name === output.name)!.shape.slice(1)]);
        assert.deepEqual(Float32Array.from(output.data), expected[output.name], `${name} ${output.name}`);
      }
    }
  });
});
