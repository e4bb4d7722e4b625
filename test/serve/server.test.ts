/**
 * The HTTP API against a real server on 127.0.0.1 (ephemeral port) with real onnxruntime-node
 * sessions on tiny trained artifacts: every endpoint, every response format, every bad-input
 * case, dynamic batching, timeouts and the execution-provider fallback.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePng } from '../../src/core/image-io';
import { AekitError } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import { silentLogger } from '../../src/core/log';
import { readMetadata } from '../../src/artifact/onnx-io';
import { startServer } from '../../src/serve';
import type { AekitServer } from '../../src/serve';
import { toPixelByte } from '../../src/serve/web/image-math';
import { normalSamples } from '../../src/artifact/prior';
import type { TestArtifacts } from './helpers';
import { float32, maxAbsDiff, oneHot, ortReference, request, testArtifacts } from './helpers';

/** Server and reference both run onnxruntime-node's CPU EP on the same bytes; only batching differs. */
const SAME_RUNTIME_TOLERANCE = 1e-6;

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (message: string) => lines.push(`${level}: ${message}`);
  return { lines, error: add('error'), warn: add('warn'), info: add('info'), debug: add('debug') };
}

/** A 28x28 image in [0, 1] that is not constant. */
function testImage(seed: number): number[] {
  return Array.from(normalSamples(784, seed), (v) => 1 / (1 + Math.exp(-v)));
}

describe('serve: HTTP API', function () {
  this.timeout(60_000);
  let artifacts: TestArtifacts;
  let server: AekitServer;
  let url: string;

  before(async () => {
    artifacts = await testArtifacts();
    server = await startServer({ models: artifacts.root, port: 0, maxRowsPerRequest: 16, maxBodyBytes: 64 * 1024, logger: silentLogger });
    url = server.url;
  });
  after(async () => {
    if (server) assert.deepEqual(await server.close(), { forced: false });
  });

  it('listens on 127.0.0.1 by default and reports health', async () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await request(`${url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'ok');
    assert.deepEqual(res.json.models, ['ae', 'cvae', 'vae']);
    assert.equal(res.json.executionProvider.requested, 'cpu');
    assert.equal(res.json.executionProvider.active, 'cpu');
    assert.equal(res.json.batching.maxBatch, 64);
    assert.equal(res.json.batching.maxDelayMs, 2);
  });

  it('lists the models with their artifacts metadata', async () => {
    const res = await request(`${url}/v1/models`);
    assert.equal(res.status, 200);
    const byName = Object.fromEntries(res.json.models.map((m: { name: string }) => [m.name, m]));
    const vae = byName.vae;
    assert.equal(vae.family, 'vae');
    assert.equal(vae.latentSize, 4);
    assert.equal(vae.conditional, false);
    assert.deepEqual(vae.imageShape, { channels: 1, height: 28, width: 28 });
    assert.equal(vae.valueRange, 'unit');
    assert.deepEqual(vae.operations, ['decode', 'sample', 'encode', 'reconstruct']);
    assert.deepEqual(vae.metadata.decoder, JSON.parse(JSON.stringify(readMetadata(artifacts.vae.decoder))));
    assert.equal(byName.cvae.conditional, true);
    assert.equal(byName.cvae.numClasses, 10);
    assert.equal(byName.cvae.latentSize, 3);
    // An AE has no prior, so it offers no /sample.
    assert.deepEqual(byName.ae.operations, ['decode', 'encode', 'reconstruct']);
    const one = await request(`${url}/v1/models/cvae`);
    assert.deepEqual(one.json, byName.cvae);
  });

  it('serves the artifact bytes the models list points at', async () => {
    const list = await request(`${url}/v1/models`);
    const vae = list.json.models.find((m: { name: string }) => m.name === 'vae');
    const res = await request(`${url}${vae.artifacts.decoder.url}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.ok(res.bytes.equals(readFileSync(artifacts.vae.decoder)));
    assert.equal(vae.artifacts.decoder.bytes, res.bytes.length);
  });

  it('decodes z to the same images as onnxruntime-node, as JSON', async () => {
    const z = [[0.5, -1, 0.25, 2], [0, 0, 0, 0], [-1.5, 1, 0.1, -0.2]];
    const res = await request(`${url}/v1/models/vae/decode`, { body: { z } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.shape, [3, 1, 28, 28]);
    assert.equal(res.json.layout, 'NCHW');
    assert.equal(res.json.valueRange, 'unit');
    const expected = (await ortReference(artifacts.vae.decoder, { z: { data: Float32Array.from(z.flat()), dims: [3, 4] } })).image;
    assert.ok(maxAbsDiff(res.json.images.flat(), expected) <= SAME_RUNTIME_TOLERANCE);
  });

  it('answers raw float32 with the shape in a header for Accept: application/octet-stream', async () => {
    const z = [[0.3, 0.2, -0.1, 1]];
    const json = await request(`${url}/v1/models/vae/decode`, { body: { z } });
    const raw = await request(`${url}/v1/models/vae/decode`, { body: { z }, headers: { accept: 'application/octet-stream' } });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('content-type'), 'application/octet-stream');
    assert.equal(raw.headers.get('x-aekit-shape'), '1,1,28,28');
    assert.equal(raw.headers.get('x-aekit-dtype'), 'float32');
    assert.equal(raw.bytes.length, 784 * 4);
    // JSON carries the float32 values exactly (as doubles), so the two encodings agree bit for bit.
    assert.deepEqual(Array.from(float32(raw.bytes)), json.json.images[0]);
  });

  it('answers a PNG of the image (one) or a grid (several) for Accept: image/png', async () => {
    const z = [[1, -1, 0.5, 0]];
    const json = await request(`${url}/v1/models/vae/decode`, { body: { z } });
    const png = await request(`${url}/v1/models/vae/decode`, { body: { z }, headers: { accept: 'image/png' } });
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    const image = decodePng(png.bytes);
    assert.equal(image.width, 28);
    assert.equal(image.height, 28);
    const values: number[] = json.json.images[0];
    values.forEach((v, i) => assert.equal(image.rgba[i * 4], toPixelByte(v, 'unit'), `pixel ${i}`));
    const grid = decodePng((await request(`${url}/v1/models/vae/sample`, { body: { n: 4, seed: 3 }, headers: { accept: 'image/png' } })).bytes);
    // 2 columns x 2 rows of 28 px with 2 px gaps around and between them (imageGridPng's layout).
    assert.equal(grid.width, 62);
    assert.equal(grid.height, 62);
  });

  it('samples reproducibly from a seed, returning the seed and the latents', async () => {
    const a = await request(`${url}/v1/models/vae/sample`, { body: { n: 3, seed: 42 } });
    const b = await request(`${url}/v1/models/vae/sample`, { body: { n: 3, seed: 42 } });
    assert.equal(a.status, 200);
    assert.equal(a.json.seed, 42);
    assert.deepEqual(a.json.images, b.json.images);
    assert.deepEqual(a.json.z.flat(), Array.from(normalSamples(12, 42)));
    const decoded = await request(`${url}/v1/models/vae/decode`, { body: { z: a.json.z } });
    assert.deepEqual(decoded.json.images, a.json.images);
    const unseeded = await request(`${url}/v1/models/vae/sample`, { body: { n: 1 } });
    assert.ok(Number.isInteger(unseeded.json.seed));
    const raw = await request(`${url}/v1/models/vae/sample`, { body: { n: 2, seed: 42 }, headers: { accept: 'application/octet-stream' } });
    assert.equal(raw.headers.get('x-aekit-seed'), '42');
    assert.deepEqual(Array.from(float32(raw.bytes)), a.json.images.slice(0, 2).flat());
  });

  it('feeds labels of conditional models as one-hot rows', async () => {
    const z = [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]];
    const res = await request(`${url}/v1/models/cvae/decode`, { body: { z, label: [2, 7] } });
    assert.equal(res.status, 200);
    const expected = (await ortReference(artifacts.cvae.decoder, { z: { data: Float32Array.from(z.flat()), dims: [2, 3] }, label: { data: oneHot([2, 7], 10), dims: [2, 10] } })).image;
    assert.ok(maxAbsDiff(res.json.images.flat(), expected) <= SAME_RUNTIME_TOLERANCE);
    const single = await request(`${url}/v1/models/cvae/decode`, { body: { z, label: 7 } });
    assert.deepEqual(single.json.images[1], res.json.images[1]);
    const sampled = await request(`${url}/v1/models/cvae/sample`, { body: { n: 2, seed: 5, label: 4 } });
    assert.equal(sampled.status, 200);
  });

  it('encodes images (flat or nested) to the posterior mean and log-variance', async () => {
    const images = [testImage(1), testImage(2)];
    const res = await request(`${url}/v1/models/vae/encode`, { body: { images } });
    assert.equal(res.status, 200);
    assert.equal(res.json.latentSize, 4);
    const expected = await ortReference(artifacts.vae.encoder, { image: { data: Float32Array.from(images.flat()), dims: [2, 1, 28, 28] } });
    assert.ok(maxAbsDiff(res.json.z.flat(), expected.mu) <= SAME_RUNTIME_TOLERANCE);
    assert.ok(maxAbsDiff(res.json.logvar.flat(), expected.logvar) <= SAME_RUNTIME_TOLERANCE);
    const nested = images.map((img) => Array.from({ length: 28 }, (_, y) => img.slice(y * 28, (y + 1) * 28)));
    assert.deepEqual((await request(`${url}/v1/models/vae/encode`, { body: { images: nested } })).json.z, res.json.z);
    const chw = images.map((img) => [Array.from({ length: 28 }, (_, y) => img.slice(y * 28, (y + 1) * 28))]);
    assert.deepEqual((await request(`${url}/v1/models/vae/encode`, { body: { images: chw } })).json.z, res.json.z);
    const raw = await request(`${url}/v1/models/vae/encode`, { body: { images }, headers: { accept: 'application/octet-stream' } });
    assert.equal(raw.headers.get('x-aekit-shape'), '2,4');
    assert.deepEqual(Array.from(float32(raw.bytes)), res.json.z.flat());
    const ae = await request(`${url}/v1/models/ae/encode`, { body: { images } });
    assert.equal(ae.json.z[0].length, 5);
    assert.equal(ae.json.logvar, undefined);
  });

  it('reconstructs = decode(encode(x)) with the posterior mean', async () => {
    const images = [testImage(7)];
    const codes = await request(`${url}/v1/models/cvae/encode`, { body: { images, label: 3 } });
    const decoded = await request(`${url}/v1/models/cvae/decode`, { body: { z: codes.json.z, label: 3 } });
    const rec = await request(`${url}/v1/models/cvae/reconstruct`, { body: { images, label: 3 } });
    assert.equal(rec.status, 200);
    assert.deepEqual(rec.json.shape, [1, 1, 28, 28]);
    assert.deepEqual(rec.json.images, decoded.json.images);
  });

  it('serves the demo page, the web module and onnxruntime-web files with MIME types and COOP/COEP', async () => {
    const page = await request(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    const html = page.bytes.toString('utf8');
    assert.match(html, /"onnxruntime-web":"\/ort\/ort\.min\.mjs"/);
    for (const [file, type] of [
      ['/ort/ort.min.mjs', 'text/javascript; charset=utf-8'],
      ['/ort/ort-wasm-simd-threaded.jsep.mjs', 'text/javascript; charset=utf-8'],
      ['/ort/ort-wasm-simd-threaded.jsep.wasm', 'application/wasm'],
    ]) {
      const res = await fetch(`${url}${file}`, { method: 'HEAD' });
      assert.equal(res.status, 200, file);
      assert.equal(res.headers.get('content-type'), type, file);
      assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp', file);
      assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin', file);
    }
    const wasm = await request(`${url}/ort/ort-wasm-simd-threaded.jsep.wasm`);
    assert.ok(wasm.bytes.subarray(0, 4).equals(Buffer.from([0, 0x61, 0x73, 0x6d])), 'wasm magic');
    const outside = await request(`${url}/ort/..%2Fpackage.json`);
    assert.equal(outside.status, 404);
    const web = await request(`${url}/web/aekit-web.js`);
    assert.equal(web.status, 200, 'dist/web/aekit-web.js: run `npm run build`');
    assert.equal(web.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(web.bytes.toString('utf8'), /from "onnxruntime-web"/);
  });

  it('exposes request and batching counters at /metrics', async () => {
    await request(`${url}/v1/models/vae/decode`, { body: { z: [[0, 0, 0, 0]] } });
    const res = await request(`${url}/metrics`);
    assert.equal(res.status, 200);
    const text = res.bytes.toString('utf8');
    assert.match(text, /aekit_requests_total\{route="decode",status="200"\} [1-9]/);
    assert.match(text, /aekit_batch_runs_total\{model="vae",part="decoder"\} [1-9]/);
    assert.match(text, /aekit_batch_merged_runs_total\{model="vae",part="decoder"\} \d+/);
  });

  describe('bad input: 4xx with a JSON error saying what is wrong', () => {
    const z4 = [[0, 0, 0, 0]];
    const cases: { name: string; path: string; body?: unknown; raw?: string; method?: string; headers?: Record<string, string>; status: number; code: string; message: RegExp }[] = [
      { name: 'unknown model', path: '/v1/models/nope/decode', body: { z: z4 }, status: 404, code: 'UNKNOWN_MODEL', message: /no model 'nope'; models: ae, cvae, vae/ },
      { name: 'unknown route', path: '/v9/whatever', method: 'GET', status: 404, code: 'NOT_FOUND', message: /no route GET \/v9\/whatever/ },
      { name: 'unknown operation', path: '/v1/models/vae/explode', body: {}, status: 404, code: 'NOT_FOUND', message: /operations: decode, sample, encode, reconstruct/ },
      { name: 'unknown artifact', path: '/v1/models/vae/artifacts/classifier.onnx', method: 'GET', status: 404, code: 'NOT_FOUND', message: /has no artifact 'classifier.onnx'/ },
      { name: 'GET on a POST route', path: '/v1/models/vae/decode', method: 'GET', status: 405, code: 'METHOD_NOT_ALLOWED', message: /use POST/ },
      { name: 'POST on a GET route', path: '/healthz', body: {}, status: 405, code: 'METHOD_NOT_ALLOWED', message: /use GET/ },
      { name: 'malformed JSON', path: '/v1/models/vae/decode', raw: '{"z": [[0, 0,', status: 400, code: 'MALFORMED_JSON', message: /not valid JSON/ },
      { name: 'NaN literal', path: '/v1/models/vae/decode', raw: '{"z": [[NaN, 0, 0, 0]]}', status: 400, code: 'MALFORMED_JSON', message: /not valid JSON/ },
      { name: 'empty body', path: '/v1/models/vae/decode', raw: '', status: 400, code: 'MALFORMED_JSON', message: /body is empty/ },
      { name: 'not an object', path: '/v1/models/vae/decode', body: [[0, 0, 0, 0]], status: 400, code: 'INVALID_BODY', message: /expected a JSON object like \{"z"/ },
      { name: 'unknown field', path: '/v1/models/vae/decode', body: { z: z4, zz: 1 }, status: 400, code: 'INVALID_BODY', message: /zz: unknown field; expected: z, label/ },
      { name: 'missing z', path: '/v1/models/vae/decode', body: {}, status: 400, code: 'INVALID_BODY', message: /z: missing/ },
      { name: 'z not rows', path: '/v1/models/vae/decode', body: { z: [0, 0, 0, 0] }, status: 400, code: 'INVALID_BODY', message: /z\[0\]: expected a row of 4 numbers, got 0 \(z is a list of rows/ },
      { name: 'empty z', path: '/v1/models/vae/decode', body: { z: [] }, status: 400, code: 'INVALID_BODY', message: /z: is empty/ },
      { name: 'wrong latent size', path: '/v1/models/vae/decode', body: { z: [[0, 0, 0, 0], [0, 0, 0]] }, status: 400, code: 'WRONG_SIZE', message: /z\[1\]: has 3 numbers; model 'vae' has latent size 4/ },
      { name: 'string in z', path: '/v1/models/vae/decode', body: { z: [[0, '1', 0, 0]] }, status: 400, code: 'INVALID_BODY', message: /z\[0\]\[1\]: expected a number, got the string "1"/ },
      { name: 'null in z', path: '/v1/models/vae/decode', body: { z: [[0, 0, null, 0]] }, status: 400, code: 'INVALID_BODY', message: /z\[0\]\[2\]: expected a number, got null/ },
      { name: 'non-finite number', path: '/v1/models/vae/decode', raw: '{"z": [[0, 1e999, 0, 0]]}', status: 400, code: 'NOT_FINITE', message: /z\[0\]\[1\]: expected a finite number, got Infinity/ },
      { name: 'too many rows', path: '/v1/models/vae/decode', body: { z: new Array(17).fill([0, 0, 0, 0]) }, status: 400, code: 'TOO_MANY_ROWS', message: /17 rows, the limit per request is 16/ },
      { name: 'label on an unconditional model', path: '/v1/models/vae/decode', body: { z: z4, label: 1 }, status: 400, code: 'BAD_LABEL', message: /label: model 'vae' is not conditional; leave out 'label'/ },
      { name: 'missing label', path: '/v1/models/cvae/decode', body: { z: [[0, 0, 0]] }, status: 400, code: 'BAD_LABEL', message: /model 'cvae' is conditional: give a class in 0\.\.9/ },
      { name: 'label out of range', path: '/v1/models/cvae/decode', body: { z: [[0, 0, 0]], label: 10 }, status: 400, code: 'BAD_LABEL', message: /class 10 is outside 0\.\.9/ },
      { name: 'negative label', path: '/v1/models/cvae/decode', body: { z: [[0, 0, 0], [0, 0, 0]], label: [1, -1] }, status: 400, code: 'BAD_LABEL', message: /label\[1\]: class -1 is outside 0\.\.9/ },
      { name: 'fractional label', path: '/v1/models/cvae/decode', body: { z: [[0, 0, 0]], label: 2.5 }, status: 400, code: 'BAD_LABEL', message: /expected a whole class number, got 2\.5/ },
      { name: 'string among the labels', path: '/v1/models/cvae/decode', body: { z: [[0, 0, 0], [0, 0, 0]], label: [1, 'x'] }, status: 400, code: 'BAD_LABEL', message: /label\[1\]: expected a whole class number, got the string "x"/ },
      { name: 'label count', path: '/v1/models/cvae/decode', body: { z: [[0, 0, 0]], label: [1, 2] }, status: 400, code: 'BAD_LABEL', message: /2 labels for 1 rows/ },
      { name: 'n missing', path: '/v1/models/vae/sample', body: { seed: 1 }, status: 400, code: 'INVALID_BODY', message: /n: missing/ },
      { name: 'n zero', path: '/v1/models/vae/sample', body: { n: 0 }, status: 400, code: 'INVALID_BODY', message: /n: expected at least 1, got 0/ },
      { name: 'n fractional', path: '/v1/models/vae/sample', body: { n: 1.5 }, status: 400, code: 'INVALID_BODY', message: /n: expected a whole number, got 1\.5/ },
      { name: 'n over the limit', path: '/v1/models/vae/sample', body: { n: 1000 }, status: 400, code: 'TOO_MANY_ROWS', message: /1000 rows, the limit per request is 16/ },
      { name: 'bad seed', path: '/v1/models/vae/sample', body: { n: 1, seed: -3 }, status: 400, code: 'INVALID_BODY', message: /seed: expected a whole number in 0\.\.4294967295, got -3/ },
      { name: 'seed as a string', path: '/v1/models/vae/sample', body: { n: 1, seed: '7' }, status: 400, code: 'INVALID_BODY', message: /seed: expected a whole number in 0\.\.4294967295, got the string "7"/ },
      { name: 'images not a list', path: '/v1/models/vae/encode', body: { images: 'x' }, status: 400, code: 'INVALID_BODY', message: /images: expected a list of images, got the string "x"/ },
      { name: 'sample without a prior', path: '/v1/models/ae/sample', body: { n: 1 }, status: 404, code: 'UNSUPPORTED_OPERATION', message: /family ae\) cannot be sampled: its prior 'fitted-gaussian' is fitted to training codes/ },
      { name: 'image of 0-255 pixels', path: '/v1/models/vae/encode', body: { images: [new Array(784).fill(255)] }, status: 400, code: 'OUT_OF_RANGE', message: /images\[0\]\[0\]: 255 is outside the model's value range \[0, 1\].*scale 0-255 pixels to \[0, 1\]/ },
      { name: 'image of the wrong size', path: '/v1/models/vae/encode', body: { images: [new Array(100).fill(0)] }, status: 400, code: 'WRONG_SIZE', message: /images\[0\]: has 100 values; model 'vae' takes 1x28x28 = 784/ },
      { name: 'nested image of the wrong size', path: '/v1/models/vae/encode', body: { images: [[[0, 0], [0, 0]]] }, status: 400, code: 'WRONG_SIZE', message: /images\[0\]: expected a list of 28/ },
      { name: 'non-finite pixel', path: '/v1/models/vae/reconstruct', raw: `{"images": [[${new Array(783).fill(0).join(',')},-1e999]]}`, status: 400, code: 'NOT_FINITE', message: /images\[0\]\[783\]: expected a finite number, got -Infinity/ },
      { name: 'unsupported Accept', path: '/v1/models/vae/decode', body: { z: z4 }, headers: { accept: 'text/csv' }, status: 406, code: 'NOT_ACCEPTABLE', message: /returns: application\/json, application\/octet-stream, image\/png/ },
      { name: 'PNG of latent codes', path: '/v1/models/vae/encode', body: { images: [testImage(1)] }, headers: { accept: 'image/png' }, status: 406, code: 'NOT_ACCEPTABLE', message: /returns: application\/json, application\/octet-stream$/ },
      { name: 'binary request body', path: '/v1/models/vae/decode', raw: '\u0000\u0001', headers: { 'content-type': 'application/octet-stream' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: /request bodies are JSON; got Content-Type 'application\/octet-stream'/ },
      { name: 'body over the limit', path: '/v1/models/vae/encode', body: { images: new Array(16).fill(new Array(784).fill(0.123456789)) }, status: 413, code: 'BODY_TOO_LARGE', message: /the limit is 65536/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const body = c.raw !== undefined ? c.raw : c.body;
        const res = await request(`${url}${c.path}`, { method: c.method, body, headers: c.headers });
        assert.equal(res.status, c.status, JSON.stringify(res.json));
        assert.equal(res.json.error.status, c.status);
        assert.equal(res.json.error.code, c.code);
        assert.match(res.json.error.message, c.message);
      });
    }

    it('a chunked body over the limit gets 413 and the connection is closed', async () => {
      const chunk = '0'.repeat(16 * 1024);
      const head = await rawExchange(url, (socket) => {
        socket.write('POST /v1/models/vae/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        for (let i = 0; i < 6; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      assert.match(head, /^HTTP\/1\.1 413/);
      assert.match(head, /Connection: close/i);
      assert.match(head, /"code":"BODY_TOO_LARGE"/);
    });

    it('a malformed HTTP request gets a JSON 400', async () => {
      const head = await rawExchange(url, (socket) => socket.write('THIS IS NOT HTTP\r\n\r\n'));
      assert.match(head, /^HTTP\/1\.1 400/);
      assert.match(head, /"code":"BAD_REQUEST"/);
    });

    it('the server is still healthy after all of that', async () => {
      const res = await request(`${url}/healthz`);
      assert.equal(res.status, 200);
      assert.equal((await request(`${url}/v1/models/vae/decode`, { body: { z: z4 } })).status, 200);
    });
  });

  it('operations need their artifact: a decoder-only model has no /encode', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'aekit-serve-one-'));
    mkdirSync(path.join(dir, 'cvae'));
    copyFileSync(artifacts.cvae.decoder, path.join(dir, 'cvae', 'decoder.onnx'));
    const one = await startServer({ models: path.join(dir, 'cvae', 'decoder.onnx'), port: 0 });
    try {
      const res = await request(`${one.url}/v1/models/cvae/encode`, { body: { images: [testImage(1)], label: 1 } });
      assert.equal(res.status, 404);
      assert.equal(res.json.error.code, 'UNSUPPORTED_OPERATION');
      assert.match(res.json.error.message, /model 'cvae' has no encoder artifact, which \/encode needs; it has: decoder/);
      assert.equal((await request(`${one.url}/v1/models/cvae/decode`, { body: { z: [[0, 0, 0]], label: 1 } })).status, 200);
    } finally {
      await one.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Send raw bytes on a socket and collect the whole answer until the server closes. */
function rawExchange(url: string, write: (socket: net.Socket) => void): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => write(socket));
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? resolve(data) : reject(error)));
    socket.on('close', () => resolve(data));
  });
}

describe('serve: dynamic batching', function () {
  this.timeout(60_000);
  let artifacts: TestArtifacts;
  before(async () => {
    artifacts = await testArtifacts();
  });

  /** Fire `count` decode requests at once; returns their z rows and JSON answers. */
  async function burst(url: string, count: number): Promise<{ z: number[][]; images: number[][] }> {
    const z = Array.from({ length: count }, (_, i) => Array.from(normalSamples(4, 100 + i)));
    const answers = await Promise.all(z.map((row) => request(`${url}/v1/models/vae/decode`, { body: { z: [row] } })));
    for (const a of answers) assert.equal(a.status, 200);
    return { z, images: answers.map((a) => a.json.images[0]) };
  }

  it('merges concurrent requests into one run and splits the outputs back per request', async () => {
    const logger = recordingLogger();
    // A long window so that the burst surely lands in few runs even on a loaded machine.
    const server = await startServer({ models: artifacts.vae.decoder, port: 0, maxBatch: 64, maxDelayMs: 100, logger });
    try {
      const { z, images } = await burst(server.url, 24);
      const expected = (await ortReference(artifacts.vae.decoder, { z: { data: Float32Array.from(z.flat()), dims: [24, 4] } })).image;
      assert.ok(maxAbsDiff(images.flat(), expected) <= SAME_RUNTIME_TOLERANCE, 'every request got its own rows back');
      const health = (await request(`${server.url}/healthz`)).json;
      assert.equal(health.batching.requests, 24);
      assert.equal(health.batching.rows, 24);
      assert.ok(health.batching.mergedRuns >= 1, JSON.stringify(health.batching));
      assert.ok(health.batching.runs < 24, JSON.stringify(health.batching));
      assert.ok(health.batching.largestRun > 1);
      assert.deepEqual(health.batchingByArtifact['vae/decoder'], Object.fromEntries(Object.entries(health.batching).filter(([k]) => !['maxBatch', 'maxDelayMs'].includes(k))));
      assert.ok(logger.lines.some((l) => /^debug: batch vae\/decoder: merged \d+ requests \(\d+ rows\) into one run$/.test(l)), logger.lines.join('\n'));
      const metrics = (await request(`${server.url}/metrics`)).bytes.toString('utf8');
      assert.match(metrics, new RegExp(`aekit_batch_merged_runs_total\\{model="vae",part="decoder"\\} ${health.batching.mergedRuns}\\b`));
    } finally {
      await server.close();
    }
  });

  it('never merges past maxBatch rows', async () => {
    const server = await startServer({ models: artifacts.vae.decoder, port: 0, maxBatch: 5, maxDelayMs: 100 });
    try {
      await burst(server.url, 12);
      const health = (await request(`${server.url}/healthz`)).json;
      assert.ok(health.batching.largestRun <= 5, JSON.stringify(health.batching));
      assert.ok(health.batching.runs >= 3);
    } finally {
      await server.close();
    }
  });

  it('with maxBatch 1 every request runs alone', async () => {
    const server = await startServer({ models: artifacts.vae.decoder, port: 0, maxBatch: 1 });
    try {
      await burst(server.url, 10);
      const health = (await request(`${server.url}/healthz`)).json;
      assert.equal(health.batching.runs, 10);
      assert.equal(health.batching.mergedRuns, 0);
      assert.equal(health.batching.largestRun, 1);
    } finally {
      await server.close();
    }
  });
});

describe('serve: timeouts, options and execution providers', function () {
  this.timeout(60_000);
  let artifacts: TestArtifacts;
  before(async () => {
    artifacts = await testArtifacts();
  });

  it('answers 408 with JSON when the body does not arrive in time', async () => {
    const server = await startServer({ models: artifacts.vae.decoder, port: 0, requestTimeoutMs: 300 });
    try {
      const started = Date.now();
      const answer = await rawExchange(server.url, (socket) => socket.write('POST /v1/models/vae/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"z": [['));
      assert.match(answer, /^HTTP\/1\.1 408/);
      assert.match(answer, /"code":"REQUEST_TIMEOUT"/);
      assert.match(answer, /did not arrive within 300 ms/);
      assert.ok(Date.now() - started < 5000);
      assert.equal((await request(`${server.url}/healthz`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('answers 503 with JSON when the answer is not ready in time, and keeps serving', async () => {
    // The batching window (1 s) outlasts the request timeout (300 ms): the queued request times out.
    const server = await startServer({ models: artifacts.vae.decoder, port: 0, requestTimeoutMs: 300, maxDelayMs: 1000 });
    try {
      const started = Date.now();
      const res = await request(`${server.url}/v1/models/vae/decode`, { body: { z: [[0, 0, 0, 0]] } });
      assert.equal(res.status, 503);
      assert.equal(res.json.error.code, 'REQUEST_TIMEOUT');
      assert.match(res.json.error.message, /not answered within 300 ms/);
      assert.ok(Date.now() - started < 1000, 'answered at the timeout, not when the batch ran');
      // The run still completes in the background; its late answer is dropped, not a crash.
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(server.health().batching.runs, 1);
      assert.equal((await request(`${server.url}/healthz`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('rejects bad options naming them', async () => {
    await assert.rejects(startServer({ models: artifacts.vae.decoder, maxBatch: 0 }), (e: unknown) => e instanceof AekitError && /maxBatch must be a whole number in 1\.\.4096, got 0/.test(e.message));
    await assert.rejects(startServer({ models: artifacts.vae.decoder, executionProvider: 'tpu' as never }), /unknown execution provider 'tpu'; expected one of: cpu, webgpu, cuda/);
    await assert.rejects(startServer({ models: '/nonexistent/model.onnx' }), /\/nonexistent\/model\.onnx: no such file or folder/);
  });

  it('refuses a port that is taken, with the reason', async () => {
    const first = await startServer({ models: artifacts.vae.decoder, port: 0 });
    try {
      await assert.rejects(startServer({ models: artifacts.vae.decoder, port: first.port }), /cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
    } finally {
      await first.close();
    }
  });

  it('falls back from cuda to cpu with a warning saying why, or refuses when strict', async () => {
    const logger = recordingLogger();
    const server = await startServer({ models: artifacts.vae.decoder, port: 0, executionProvider: 'cuda', logger });
    try {
      const health = (await request(`${server.url}/healthz`)).json;
      assert.equal(health.executionProvider.requested, 'cuda');
      assert.equal(health.executionProvider.active, 'cpu');
      assert.match(health.executionProvider.fallbackReason, /CUDA/);
      assert.ok(logger.lines.some((l) => /^warn: execution provider 'cuda' cannot be used: .*CUDA.*; falling back to cpu$/.test(l)), logger.lines.join('\n'));
      assert.equal((await request(`${server.url}/v1/models/vae/decode`, { body: { z: [[0, 0, 0, 0]] } })).status, 200);
    } finally {
      await server.close();
    }
    await assert.rejects(
      startServer({ models: artifacts.vae.decoder, port: 0, executionProvider: 'cuda', strictExecutionProvider: true }),
      (e: unknown) => e instanceof AekitError && e.code === 'BACKEND_UNAVAILABLE' && /execution provider 'cuda' cannot be used: .*--strict-ep: not falling back to cpu/.test(e.message),
    );
  });
});
