/**
 * Triton's binary tensor data extension on `aekit serve`'s /v2 infer, as its document specifies:
 * `binary_data_size` on inputs whose little-endian bytes follow the JSON (whose length is the
 * `Inference-Header-Content-Length` header), `binary_data` per output and `binary_data_output` per
 * request, and the response in the same layout. Also the dynamic batching /v2 requests share with
 * the server's own API. Real server on 127.0.0.1, real onnxruntime.
 */
import { strict as assert } from 'node:assert';
import { normalSamples } from '../../src/artifact/prior';
import { startServer } from '../../src/serve';
import type { AekitServer } from '../../src/serve';
import { float32, nodeRequest, oneHot, request, testArtifacts } from './helpers';
import type { RawResponse } from './helpers';
import { assertV2Error, fp32 } from './v2-helpers';

const HEADER = 'inference-header-content-length';

/** Little-endian bytes of float32 values. */
function le(values: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i], i * 4);
  return out;
}

/** A body of the extension: the JSON, then the binary parts; the header gives the JSON's length unless `length` says otherwise. */
function binaryBody(json: unknown, parts: Buffer[], length?: string): { headers: Record<string, string>; body: Buffer } {
  const head = Buffer.from(JSON.stringify(json));
  return { headers: { [HEADER]: length ?? String(head.length), 'content-type': 'application/octet-stream' }, body: Buffer.concat([head, ...parts]) };
}

/** The JSON of an extension response and each binary output's values, by name. */
function readBinaryResponse(res: RawResponse): { json: { outputs: { name: string; shape: number[]; datatype: string; data?: number[]; parameters?: { binary_data_size: number } }[] }; binary: Record<string, Float32Array> } {
  assert.equal(res.status, 200, res.body.toString('utf8').slice(0, 300));
  assert.equal(res.headers['content-type'], 'application/octet-stream');
  const length = Number(res.headers[HEADER]);
  const json = JSON.parse(res.body.subarray(0, length).toString('utf8'));
  const binary: Record<string, Float32Array> = {};
  let at = length;
  for (const output of json.outputs) {
    if (!output.parameters?.binary_data_size) continue;
    binary[output.name] = float32(res.body.subarray(at, at + output.parameters.binary_data_size));
    at += output.parameters.binary_data_size;
  }
  assert.equal(at, res.body.length, 'the binary outputs fill the rest of the body');
  return { json, binary };
}

describe('serve: v2 binary tensor data extension and batching', function () {
  this.timeout(60_000);
  let server: AekitServer;
  let url: string;

  before(async () => {
    server = await startServer({ models: (await testArtifacts()).root, port: 0, maxRowsPerRequest: 8, maxDelayMs: 20 });
    url = server.url;
  });
  after(async () => {
    if (server) assert.deepEqual(await server.close(), { forced: false });
  });

  const post = (model: string, extension: { headers: Record<string, string>; body: Buffer }) => nodeRequest(url, { method: 'POST', path: `/v2/models/${model}/infer`, ...extension });
  const jsonInfer = (model: string, body: unknown) => request(`${url}/v2/models/${model}/infer`, { body });

  it('binary inputs and binary_data_output: the JSON with binary_data_size, then the outputs as little-endian FP32, equal to the JSON answer', async () => {
    const z = Float32Array.from(normalSamples(2 * 4, 11));
    const res = readBinaryResponse(await post('vae-decoder', binaryBody({ inputs: [{ name: 'z', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: 32 } }], parameters: { binary_data_output: true } }, [le(z)])));
    assert.deepEqual(res.json.outputs, [{ name: 'image', datatype: 'FP32', shape: [2, 1, 28, 28], parameters: { binary_data_size: 2 * 784 * 4 } }]);
    const asJson = await jsonInfer('vae-decoder', { inputs: [fp32('z', [2, 4], [...z])] });
    assert.deepEqual(res.binary.image, Float32Array.from(asJson.json.outputs[0].data));
  });

  it('binary_data per output overrides binary_data_output; binary outputs follow the JSON in the order the outputs are listed', async () => {
    const image = Float32Array.from({ length: 784 }, (_, i) => (i % 13) / 12);
    const request = {
      inputs: [{ name: 'image', shape: [1, 1, 28, 28], datatype: 'FP32', parameters: { binary_data_size: 784 * 4 } }],
      parameters: { binary_data_output: true },
      outputs: [{ name: 'logvar' }, { name: 'mu', parameters: { binary_data: false } }],
    };
    const res = readBinaryResponse(await post('vae-encoder', binaryBody(request, [le(image)])));
    assert.deepEqual(res.json.outputs.map((o) => o.name), ['logvar', 'mu']);
    assert.deepEqual(res.json.outputs[0].parameters, { binary_data_size: 16 });
    assert.equal(res.json.outputs[1].data!.length, 4);
    const asJson = await jsonInfer('vae-encoder', { inputs: [fp32('image', [1, 1, 28, 28], [...image])] });
    assert.deepEqual(res.binary.logvar, Float32Array.from(asJson.json.outputs[1].data));
    assert.deepEqual(res.json.outputs[1].data, asJson.json.outputs[0].data);
  });

  it('binary inputs with JSON outputs answer plain JSON; binary and JSON inputs mix; any Content-Type goes with the header, and a JSON part of odd length', async () => {
    const z = [0.3, -0.7, 1.1];
    const label = oneHot([4], 10);
    const expected = (await jsonInfer('cvae-decoder', { inputs: [fp32('z', [1, 3], z), fp32('label', [1, 10], [...label])] })).json.outputs;
    const both = binaryBody({ id: 'x', inputs: [{ name: 'z', shape: [1, 3], datatype: 'FP32', parameters: { binary_data_size: 12 } }, { name: 'label', shape: [1, 10], datatype: 'FP32', parameters: { binary_data_size: 40 } }] }, [le(z), le(label)]);
    const mixedJson = (id: string) => ({ id, inputs: [fp32('z', [1, 3], z), { name: 'label', shape: [1, 10], datatype: 'FP32', parameters: { binary_data_size: 40 } }] });
    // An id that makes the JSON part odd in length: the binary part then starts unaligned.
    const id = JSON.stringify(mixedJson('x')).length % 2 === 1 ? 'x' : 'xy';
    const mixed = binaryBody(mixedJson(id), [le(label)]);
    assert.equal(JSON.stringify(mixedJson(id)).length % 2, 1);
    for (const [what, extension] of [['both binary', both], ['mixed (the binary part starts at an odd offset)', mixed]] as const) {
      for (const type of ['application/octet-stream', undefined, 'application/x-www-form-urlencoded']) {
        const headers = { ...extension.headers };
        if (type === undefined) delete headers['content-type'];
        else headers['content-type'] = type;
        const res = await post('cvae-decoder', { headers, body: extension.body });
        assert.equal(res.status, 200, `${what}, ${type}: ${res.body.toString('utf8').slice(0, 200)}`);
        assert.match(res.headers['content-type'], /^application\/json/);
        assert.equal(res.headers[HEADER], undefined);
        assert.deepEqual(JSON.parse(res.body.toString('utf8')).outputs, expected, `${what}, ${type}`);
      }
    }
  });

  it('binary parts that do not add up, and headers that do not fit the body: 400 in the protocol error shape', async () => {
    const z = le([0, 0, 0, 0]);
    const input = (size: unknown) => ({ inputs: [{ name: 'z', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: size } }] });
    assertV2Error(await post('vae-decoder', binaryBody(input(12), [z])), 400, 'WRONG_SIZE', /^inputs\[0\]\.parameters\.binary_data_size: 12 bytes, but shape \[1, 4\] of FP32 needs 4 x 4 = 16$/);
    assertV2Error(await post('vae-decoder', binaryBody(input(16), [z, Buffer.alloc(3)])), 400, 'WRONG_SIZE', /^inputs: the binary data after the JSON is 19 bytes, but the inputs' binary_data_size add up to 16$/);
    assertV2Error(await post('vae-decoder', binaryBody(input(16), [z.subarray(0, 8)])), 400, 'WRONG_SIZE', /16 bytes from byte 0 of the binary data, which has only 8/);
    assertV2Error(await post('vae-decoder', binaryBody(input('16'), [z])), 400, 'INVALID_BODY', /^inputs\[0\]\.parameters\.binary_data_size: expected a whole number of bytes, got "16"$/);
    assertV2Error(await post('vae-decoder', binaryBody({ inputs: [{ ...fp32('z', [1, 4], [0, 0, 0, 0]), parameters: { binary_data_size: 16 } }] }, [z])), 400, 'INVALID_BODY', /either in JSON or in binary, not both/);
    assertV2Error(await post('vae-decoder', binaryBody(input(16), [le([0, NaN, 0, 0])])), 400, 'NOT_FINITE', /^inputs\[0\]: value 1 of input 'z' is NaN \(binary data\)/);
    assertV2Error(await post('vae-decoder', binaryBody(input(16), [z], '10000')), 400, 'INVALID_BODY', /^Inference-Header-Content-Length: 10000 bytes of JSON, but the body has \d+$/);
    assertV2Error(await post('vae-decoder', binaryBody(input(16), [z], '20')), 400, 'MALFORMED_JSON', /^the JSON part of the body \(its first Inference-Header-Content-Length = 20 bytes\) is not valid JSON/);
    assertV2Error(await post('vae-decoder', binaryBody(input(16), [z], 'ten')), 400, 'INVALID_BODY', /^Inference-Header-Content-Length: expected the length in bytes of the JSON that starts the body, got 'ten'$/);
    assertV2Error(await post('vae-decoder', binaryBody(input(16), [z], '0')), 400, 'INVALID_BODY', /0 \(a body of one raw binary tensor\) is not supported/);
    assertV2Error(await jsonInfer('vae-decoder', input(16)), 400, 'INVALID_BODY', /binary data without the Inference-Header-Content-Length header/);
  });

  it("batches /v2 requests with each other and with the server's own /decode: merged runs, each answer the one it gets alone", async () => {
    const zs = Array.from({ length: 8 }, (_, i) => [...normalSamples(4, 100 + i)]);
    const before = server.health().batchingByArtifact['vae/decoder'];
    const together = await Promise.all(
      zs.map((z, i) => (i % 2 === 0 ? jsonInfer('vae-decoder', { inputs: [fp32('z', [1, 4], z)] }).then((r) => r.json.outputs[0].data) : request(`${url}/v1/models/vae/decode`, { body: { z: [z] } }).then((r) => r.json.images[0]))),
    );
    const after = server.health().batchingByArtifact['vae/decoder'];
    assert.equal(after.requests - before.requests, 8);
    assert.ok(after.mergedRuns > before.mergedRuns, `no merged run: ${JSON.stringify(after)}`);
    assert.ok(after.runs - before.runs < 8, `${after.runs - before.runs} runs for 8 concurrent requests`);
    for (const [i, z] of zs.entries()) {
      const alone = (await jsonInfer('vae-decoder', { inputs: [fp32('z', [1, 4], z)] })).json.outputs[0].data;
      assert.deepEqual(together[i], alone, `request ${i}`);
    }
  });
});
