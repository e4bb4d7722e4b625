/**
 * Conformance of `aekit serve`'s /v2 endpoints with the v2 inference protocol as published (KServe's
 * "Predict Protocol - Version 2", now the Open Inference Protocol; the HTTP/REST part): health,
 * server and model metadata, model readiness with and without `/versions/{v}`, the inference
 * request and response objects, tensor data flat or nested in row-major order, and the error
 * object `{"error": $string}` with a 4xx status. Real server on 127.0.0.1, real onnxruntime.
 */
import { strict as assert } from 'node:assert';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { normalSamples } from '../../src/artifact/prior';
import type { Logger } from '../../src/core/log';
import { startServer } from '../../src/serve';
import type { AekitServer } from '../../src/serve';
import { InferRequestSchema } from '../../src/serve/v2/schema';
import type { TestArtifacts } from './helpers';
import { nodeRequest, oneHot, ortReference, overflowingLatent, parseResponses, rawConnection, request, testArtifacts } from './helpers';
import { assertV2Error, fp32 } from './v2-helpers';

describe('serve: the v2 inference protocol (Open Inference Protocol, REST)', function () {
  this.timeout(60_000);
  let artifacts: TestArtifacts;
  let server: AekitServer;
  let url: string;
  const warnings: string[] = [];
  const logger: Logger = { error: (m) => warnings.push(`error: ${m}`), warn: (m) => warnings.push(`warn: ${m}`), info() {}, debug() {} };

  before(async () => {
    artifacts = await testArtifacts();
    server = await startServer({ models: artifacts.root, port: 0, maxRowsPerRequest: 8, maxBodyBytes: 64 * 1024, logger });
    url = server.url;
  });
  after(async () => {
    if (server) assert.deepEqual(await server.close(), { forced: false });
  });

  const infer = (model: string, body: unknown, headers?: Record<string, string>) => request(`${url}/v2/models/${model}/infer`, { body, headers });

  describe('health: a 200 status is true', () => {
    it('GET /v2/health/live and /v2/health/ready answer 200 with {"live": true} and {"ready": true}', async () => {
      const live = await request(`${url}/v2/health/live`);
      assert.equal(live.status, 200);
      assert.deepEqual(live.json, { live: true });
      const ready = await request(`${url}/v2/health/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json, { ready: true });
      const head = await nodeRequest(url, { method: 'HEAD', path: '/v2/health/ready' });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
    });

    it('GET /v2/models/{name}[/versions/{v}]/ready answers 200 for a served model, 404 {"error"} for others', async () => {
      for (const path of ['/v2/models/vae-decoder/ready', '/v2/models/vae-decoder/versions/1/ready']) {
        const res = await request(`${url}${path}`);
        assert.equal(res.status, 200, path);
        assert.deepEqual(res.json, { name: 'vae-decoder', ready: true });
      }
      assertV2Error(await request(`${url}/v2/models/vae/ready`), 404, 'UNKNOWN_MODEL', /^no model 'vae'; v2 models \(named as in an `aekit export --triton` repository, <run>-<part>\): ae-decoder, ae-encoder, cvae-decoder, cvae-encoder, vae-decoder, vae-encoder$/);
      assertV2Error(await request(`${url}/v2/models/vae-decoder/versions/2/ready`), 404, 'NOT_FOUND', /^model 'vae-decoder' has no version '2'; its versions: 1$/);
    });
  });

  describe('server metadata', () => {
    it('GET /v2 answers {name, version, extensions}, binary_tensor_data among them', async () => {
      for (const path of ['/v2', '/v2/']) {
        const res = await request(`${url}${path}`);
        assert.equal(res.status, 200);
        assert.deepEqual(Object.keys(res.json).sort(), ['extensions', 'name', 'version']);
        assert.equal(res.json.name, 'aekit');
        assert.match(res.json.version, /^\d+\.\d+\.\d+/);
        assert.deepEqual(res.json.extensions, ['binary_tensor_data']);
      }
    });
  });

  describe('model metadata', () => {
    it('names every artifact <run>-<part>, with versions, platform and FP32 tensors whose variable dimensions are -1', async () => {
      for (const path of ['/v2/models/cvae-decoder', '/v2/models/cvae-decoder/versions/1']) {
        const res = await request(`${url}${path}`);
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, {
          name: 'cvae-decoder',
          versions: ['1'],
          platform: 'onnxruntime_onnx',
          inputs: [
            { name: 'z', datatype: 'FP32', shape: [-1, 3] },
            { name: 'label', datatype: 'FP32', shape: [-1, 10] },
          ],
          outputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 1, 28, 28] }],
        });
      }
      const encoder = (await request(`${url}/v2/models/vae-encoder`)).json;
      assert.deepEqual(encoder.inputs, [{ name: 'image', datatype: 'FP32', shape: [-1, 1, 28, 28] }]);
      assert.deepEqual(encoder.outputs, [
        { name: 'mu', datatype: 'FP32', shape: [-1, 4] },
        { name: 'logvar', datatype: 'FP32', shape: [-1, 4] },
      ]);
      assertV2Error(await request(`${url}/v2/models/nope`), 404, 'UNKNOWN_MODEL', /^no model 'nope'/);
      assertV2Error(await request(`${url}/v2/models/vae-decoder/versions/latest`), 404, 'NOT_FOUND', /no version 'latest'/);
    });
  });

  describe('inference', () => {
    it('answers {model_name, model_version, id, outputs} with each output flat, row-major, as onnxruntime computes it', async () => {
      const z = Float32Array.from(normalSamples(3 * 4, 5));
      const res = await infer('vae-decoder', { id: 'req-42', inputs: [fp32('z', [3, 4], [...z])] });
      assert.equal(res.status, 200, res.bytes.toString('utf8').slice(0, 300));
      assert.deepEqual(Object.keys(res.json), ['model_name', 'model_version', 'id', 'outputs']);
      assert.equal(res.json.model_name, 'vae-decoder');
      assert.equal(res.json.model_version, '1');
      assert.equal(res.json.id, 'req-42');
      assert.equal(res.json.outputs.length, 1);
      const [output] = res.json.outputs;
      assert.deepEqual({ name: output.name, datatype: output.datatype, shape: output.shape }, { name: 'image', datatype: 'FP32', shape: [3, 1, 28, 28] });
      const expected = (await ortReference(artifacts.vae.decoder, { z: { data: z, dims: [3, 4] } })).image;
      assert.deepEqual(Float32Array.from(output.data), expected);
    });

    it('takes tensor data nested in its natural shape as well as flat, and the version path', async () => {
      const flat = [0.5, -1, 0.25, 2, -0.5, 1, 0, -2];
      const nested = [flat.slice(0, 4), flat.slice(4)];
      const a = await infer('vae-decoder', { inputs: [fp32('z', [2, 4], flat)] });
      const b = await request(`${url}/v2/models/vae-decoder/versions/1/infer`, { body: { inputs: [fp32('z', [2, 4], nested)] } });
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.equal(a.json.id, undefined);
      assert.deepEqual(b.json.outputs, a.json.outputs);
    });

    it('returns only the outputs asked for, in the order asked', async () => {
      const image = new Array(784).fill(0).map((_, i) => (i % 29) / 28);
      const both = await infer('vae-encoder', { inputs: [fp32('image', [1, 1, 28, 28], image)], outputs: [{ name: 'logvar' }, { name: 'mu' }] });
      assert.deepEqual(both.json.outputs.map((o: { name: string }) => o.name), ['logvar', 'mu']);
      const one = await infer('vae-encoder', { inputs: [fp32('image', [1, 1, 28, 28], image)], outputs: [{ name: 'mu' }] });
      assert.deepEqual(one.json.outputs, [both.json.outputs[1]]);
      assert.deepEqual(one.json.outputs[0].shape, [1, 4]);
    });

    it("gives the server's own API's numbers: v2 decoder = /v1 /decode, v2 encoder mu = /v1 /encode, for a conditional model too", async () => {
      const z = [
        [0.1, -0.2, 0.3],
        [1, 0, -1],
      ];
      const v1 = await request(`${url}/v1/models/cvae/decode`, { body: { z, label: [3, 7] } });
      const v2 = await infer('cvae-decoder', { inputs: [fp32('z', [2, 3], z), fp32('label', [2, 10], [...oneHot([3, 7], 10)])] });
      assert.equal(v2.status, 200);
      assert.deepEqual(v2.json.outputs[0].data, v1.json.images.flat());
      const images = [new Array(784).fill(0.25), new Array(784).fill(0).map((_, i) => (i % 7) / 6)];
      const encoded = await request(`${url}/v1/models/vae/encode`, { body: { images } });
      const mu = await infer('vae-encoder', { inputs: [fp32('image', [2, 1, 28, 28], images)], outputs: [{ name: 'mu' }] });
      assert.deepEqual(mu.json.outputs[0].data, encoded.json.z.flat());
    });

    it('accepts a gzip-compressed body, like the rest of the server', async () => {
      const body = gzipSync(JSON.stringify({ inputs: [fp32('z', [1, 4], [0, 0, 0, 0])] }));
      const res = await nodeRequest(url, { method: 'POST', path: '/v2/models/vae-decoder/infer', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body });
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.body.toString('utf8')).outputs[0].data.length, 784);
    });
  });

  describe('errors: a 4xx with {"error": $string}, saying what was expected and what came', () => {
    const z1 = () => fp32('z', [1, 4], [0, 0, 0, 0]);

    it('malformed bodies and requests that do not fit the request object: 400', async () => {
      assertV2Error(await infer('vae-decoder', '{"inputs": ['), 400, 'MALFORMED_JSON', /^the body is not valid JSON/);
      assertV2Error(await infer('vae-decoder', [1, 2]), 400, 'INVALID_BODY', /^expected an inference request object like \{"inputs": \[\{"name": "z", "shape": \[1, 4\], "datatype": "FP32", "data": \[4 numbers\]\}\]\}, got an array of 2$/);
      assertV2Error(await infer('vae-decoder', {}), 400, 'INVALID_BODY', /^inputs: missing; expected a list of input tensors$/);
      assertV2Error(await infer('vae-decoder', { inputs: [] }), 400, 'INVALID_BODY', /^inputs: is empty; give at least one input tensor$/);
      assertV2Error(await infer('vae-decoder', { input: [z1()] }), 400, 'INVALID_BODY', /^input: unknown field; an inference request has: id, model_name, model_version, parameters, inputs, outputs$/);
      assertV2Error(await infer('vae-decoder', { inputs: [{ ...z1(), dtype: 'FP32' }] }), 400, 'INVALID_BODY', /^inputs\[0\]\.dtype: unknown field; this object has: name, shape, datatype, parameters, data$/);
      assertV2Error(await infer('vae-decoder', { inputs: [{ name: 'z', shape: [1, 4], data: [0, 0, 0, 0] }] }), 400, 'INVALID_BODY', /^inputs\[0\]\.datatype: missing; expected one of BOOL, UINT8, .*FP32, FP64, BYTES$/);
      assertV2Error(await infer('vae-decoder', { inputs: [{ ...z1(), shape: [1, -4] }] }), 400, 'INVALID_BODY', /^inputs\[0\]\.shape\[1\]: expected a whole number >= 0, got -4$/);
      assertV2Error(await infer('vae-decoder', { inputs: [{ ...z1(), datatype: 'fp32' }] }), 400, 'INVALID_BODY', /^inputs\[0\]\.datatype: expected one of BOOL, .*, got the string "fp32"$/);
      assertV2Error(await infer('vae-decoder', { id: 7, inputs: [z1()] }), 400, 'INVALID_BODY', /^id: expected a string, got 7$/);
      assertV2Error(await infer('vae-decoder', { inputs: [z1()], parameters: { binary_data_output: [true] } }), 400, 'INVALID_BODY', /^parameters\.binary_data_output: expected a string, number or boolean, got an array of 1$/);
      assertV2Error(await infer('vae-decoder', { model_name: 'ae-decoder', inputs: [z1()] }), 400, 'INVALID_BODY', /^model_name: 'ae-decoder', but this request went to model 'vae-decoder' version 1/);
    });

    it('tensors that do not fit the model: 400 naming the tensor, what it takes and what came', async () => {
      assertV2Error(await infer('vae-decoder', { inputs: [fp32('x', [1, 4], [0, 0, 0, 0])] }), 400, 'INVALID_BODY', /^inputs\[0\]\.name: model 'vae-decoder' has no input 'x'; its inputs: z$/);
      assertV2Error(await infer('vae-decoder', { inputs: [z1(), z1()] }), 400, 'INVALID_BODY', /^inputs\[1\]\.name: input 'z' is given twice \(also inputs\[0\]\)$/);
      assertV2Error(await infer('cvae-decoder', { inputs: [fp32('z', [1, 3], [0, 0, 0])] }), 400, 'INVALID_BODY', /^inputs: missing input 'label' \(FP32 \[-1, 10\]\); model 'cvae-decoder' takes: z, label$/);
      assertV2Error(await infer('vae-decoder', { inputs: [{ ...z1(), datatype: 'FP64' }] }), 400, 'INVALID_BODY', /^inputs\[0\]\.datatype: 'FP64', but input 'z' of model 'vae-decoder' is FP32$/);
      assertV2Error(await infer('vae-decoder', { inputs: [fp32('z', [1, 5], [0, 0, 0, 0, 0])] }), 400, 'WRONG_SIZE', /^inputs\[0\]\.shape: \[1, 5\] does not fit input 'z' of model 'vae-decoder', shape \[-1, 4\] \(-1: any number of rows\)$/);
      assertV2Error(await infer('vae-decoder', { inputs: [fp32('z', [4], [0, 0, 0, 0])] }), 400, 'WRONG_SIZE', /^inputs\[0\]\.shape: \[4\] does not fit/);
      assertV2Error(await infer('vae-decoder', { inputs: [fp32('z', [0, 4], [])] }), 400, 'WRONG_SIZE', /^inputs\[0\]\.shape: \[0, 4\] has no rows; send at least one$/);
      assertV2Error(await infer('cvae-decoder', { inputs: [fp32('z', [2, 3], [0, 0, 0, 0, 0, 0]), fp32('label', [1, 10], [...oneHot([1], 10)])] }), 400, 'WRONG_SIZE', /^inputs\[1\]\.shape: 1 rows, but inputs\[0\] has 2/);
      assertV2Error(await infer('vae-decoder', { inputs: [fp32('z', [1, 4], [0, 0, 0])] }), 400, 'WRONG_SIZE', /^inputs\[0\]\.data: has 3 values; shape \[1, 4\] needs 4$/);
      assertV2Error(await infer('vae-decoder', { inputs: [fp32('z', [1, 4], [0, '1', 0, 0])] }), 400, 'INVALID_BODY', /^inputs\[0\]\.data\[1\]: expected a number, got the string "1"$/);
      assertV2Error(await infer('vae-decoder', { inputs: [fp32('z', [2, 4], [[0, 0, 0, 0], [0, null, 0, 0]])] }), 400, 'INVALID_BODY', /^inputs\[0\]\.data\[1\]\[1\]: expected a number, got null$/);
      assertV2Error(await infer('vae-decoder', { inputs: [{ name: 'z', shape: [1, 4], datatype: 'FP32' }] }), 400, 'INVALID_BODY', /^inputs\[0\]\.data: missing; expected the values/);
      assertV2Error(await infer('vae-decoder', { inputs: [z1()], outputs: [{ name: 'x_hat' }] }), 400, 'INVALID_BODY', /^outputs\[0\]\.name: model 'vae-decoder' has no output 'x_hat'; its outputs: image$/);
      assertV2Error(await infer('vae-decoder', { inputs: [z1()], outputs: [{ name: 'image', parameters: { classification: 3 } }] }), 400, 'INVALID_BODY', /classification extension is not supported/);
    });

    it("the server's 4xx rules: numbers past float32, too many rows, pixels outside the value range", async () => {
      assertV2Error(await infer('vae-decoder', '{"inputs": [{"name": "z", "shape": [1, 4], "datatype": "FP32", "data": [0, 1e999, 0, 0]}]}'), 400, 'NOT_FINITE', /^inputs\[0\]\.data\[1\]: expected a finite number, got Infinity/);
      assertV2Error(await infer('vae-decoder', { inputs: [fp32('z', [1, 4], [0, 3.5e38, 0, 0])] }), 400, 'NOT_FINITE', /^inputs\[0\]\.data\[1\]: 3\.5e\+38 overflows float32, the input's type/);
      assertV2Error(await infer('vae-decoder', { inputs: [fp32('z', [9, 4], new Array(36).fill(0))] }), 400, 'TOO_MANY_ROWS', /^inputs\[0\]\.shape: 9 rows, the limit per request is 8 \(--max-rows\)$/);
      const image = new Array(784).fill(0.5);
      image[10] = 255;
      assertV2Error(await infer('vae-encoder', { inputs: [fp32('image', [1, 1, 28, 28], image)] }), 400, 'OUT_OF_RANGE', /^inputs\[0\]: value 10 of image input 'image' is 255, outside the model's value range \[0, 1\] \('unit'\); scale 0-255 pixels to \[0, 1\]$/);
    });

    it('a row the model overflows on: 422 naming the output and row, logged without a stack', async () => {
      const overflowing = await overflowingLatent(artifacts.ae.decoder);
      const res = await infer('ae-decoder', { inputs: [fp32('z', [2, 5], [0, 0, 0, 0, 0, ...overflowing])] });
      assertV2Error(res, 422, 'OUTPUT_NOT_FINITE', /^outputs\.image\[1\]: model 'ae-decoder' gave non-finite values \(NaN\) for row 1 of the batch/);
      assert.ok(warnings.some((w) => /^warn: v2_infer: model 'ae-decoder' gave non-finite outputs for row 1 of a client's batch \(answered 422\)$/.test(w)), warnings.join('\n'));
    });

    it('every layer under /v2 answers in this shape: 404, 405, 415, 413, 403, a bad Host', async () => {
      assertV2Error(await request(`${url}/v2/models/vae-decoder/predict`), 404, 'NOT_FOUND', /^no route GET \/v2\/models\/vae-decoder\/predict; the v2 protocol's endpoints: GET \/v2, /);
      assertV2Error(await request(`${url}/v2/health`), 404, 'NOT_FOUND');
      assertV2Error(await request(`${url}/v2/models/vae-decoder/infer`), 405, 'METHOD_NOT_ALLOWED', /^GET is not allowed here; use POST$/);
      assertV2Error(await infer('nope', { inputs: [z1()] }), 404, 'UNKNOWN_MODEL');
      assertV2Error(await infer('vae-decoder', JSON.stringify({ inputs: [z1()] }), { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE', /send Content-Type: application\/json/);
      assertV2Error(await infer('vae-decoder', JSON.stringify({ inputs: [z1()] }), { 'content-type': 'application/octet-stream' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      assertV2Error(await infer('vae-decoder', { inputs: [fp32('z', [8, 4], new Array(10_000).fill(0.123456789))] }), 413, 'BODY_TOO_LARGE');
      const evil = await nodeRequest(url, { path: '/v2/health/ready', headers: { host: 'evil.example' } });
      assertV2Error(evil, 403, 'HOST_NOT_ALLOWED');
      const twoHosts = await rawConnection(url, (socket) => socket.end('GET /v2 HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n'));
      assertV2Error(parseResponses(twoHosts.raw)[0], 400, 'BAD_HOST', /2 Host headers/);
      // Beside /v2 the server's own shape stays.
      const v1 = await request(`${url}/v1/models/nope`);
      assert.equal(v1.status, 404);
      assert.equal(v1.json.error.code, 'UNKNOWN_MODEL');
    });
  });

  describe('/openapi.json and /metrics', () => {
    it('documents the inference request with the zod schema the server checks it with, and the v2 model names', async () => {
      const doc = (await request(`${url}/openapi.json`)).json;
      const { $schema: _dialect, ...expected } = z.toJSONSchema(InferRequestSchema, { io: 'input' });
      assert.deepEqual(doc.components.schemas.InferRequest, expected);
      assert.equal(doc.paths['/v2/models/{model_name}/infer'].post.requestBody.content['application/json'].schema.$ref, '#/components/schemas/InferRequest');
      assert.deepEqual(doc.paths['/v2/models/{model_name}/infer'].post.parameters[0].schema.enum, ['ae-decoder', 'ae-encoder', 'cvae-decoder', 'cvae-encoder', 'vae-decoder', 'vae-encoder']);
    });

    it('counts v2 requests by route in /metrics', async () => {
      const metrics = (await request(`${url}/metrics`)).bytes.toString('utf8');
      assert.match(metrics, /aekit_requests_total\{route="v2_infer",status="200"\} \d+/);
      assert.match(metrics, /aekit_requests_total\{route="v2_infer",status="400"\} \d+/);
      assert.match(metrics, /aekit_requests_total\{route="v2_health",status="200"\} \d+/);
    });
  });
});
