/**
 * Classifiers in `aekit serve`: the shipped `models/` folder (the MNIST and coloured-MNIST
 * classifiers) served as it is, `/classify` on real MNIST test images against onnxruntime-node run
 * on the same file, the request rules it shares with `/encode`, the operations a classifier does
 * not have, its v2 model, and a classifier beside the latent models. Real server on 127.0.0.1,
 * real onnxruntime.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { compareClose } from '../../src/core/allclose';
import { silentLogger } from '../../src/core/log';
import { MODELS_DIR } from '../../src/core/paths';
import { loadMnist } from '../../src/data/mnist';
import { startServer } from '../../src/serve';
import type { AekitServer } from '../../src/serve';
import { float32, ortReference, request, testArtifacts } from './helpers';

const CLASSIFIER = path.join(MODELS_DIR, 'mnist-classifier.onnx');

/** Server and reference run onnxruntime-node's CPU EP on the same bytes; only the batch differs. */
const SAME_RUNTIME = { rtol: 1e-5, atol: 1e-5 };

/** How far a row of probabilities may sum from 1 (float32 rounding of ten values is ~1e-6). */
const SUM_TOLERANCE = 1e-5;

const COUNT = 10;

/** The first MNIST test images, as flat CHW rows in [0, 1], and their labels. */
function mnistTest(count: number): { rows: number[][]; data: Float32Array; labels: number[] } {
  const set = loadMnist('test', { limit: count });
  const size = set.height * set.width * set.channels;
  const rows = Array.from({ length: count }, (_, r) => Array.from(set.images.subarray(r * size, (r + 1) * size)));
  return { rows, data: Float32Array.from(set.images), labels: Array.from(set.labels) };
}

/** Softmax of each row, in float64. */
function softmax(logits: Float32Array, width: number): number[][] {
  const out: number[][] = [];
  for (let at = 0; at < logits.length; at += width) {
    const row = Array.from(logits.subarray(at, at + width));
    const max = Math.max(...row);
    const exps = row.map((v) => Math.exp(v - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    out.push(exps.map((e) => e / sum));
  }
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const result = compareClose(actual, expected, SAME_RUNTIME);
  assert.ok(result.ok, `${what}: ${JSON.stringify(result.worst)}`);
}

describe('serve: classifiers (POST /v1/models/{name}/classify)', function () {
  this.timeout(120_000);
  let server: AekitServer;
  let url: string;

  before(async () => {
    server = await startServer({ models: MODELS_DIR, port: 0, maxRowsPerRequest: 16, logger: silentLogger });
    url = server.url;
  });
  after(async () => {
    if (server) assert.deepEqual(await server.close(), { forced: false });
  });

  it('serves the shipped models/ folder: both classifiers, each offering classify and no latent code', async () => {
    const res = await request(`${url}/v1/models`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.models.map((m: { name: string }) => m.name), ['colored-mnist-classifier', 'mnist-classifier']);
    const model = (await request(`${url}/v1/models/mnist-classifier`)).json;
    assert.deepEqual(
      { ...model, metadata: undefined, artifacts: undefined },
      { name: 'mnist-classifier', family: 'classifier', conditional: false, numClasses: 10, imageShape: { channels: 1, height: 28, width: 28 }, valueRange: 'unit', operations: ['classify'], metadata: undefined, artifacts: undefined },
    );
    assert.equal(res.json.models[0].imageShape.channels, 3);
    const artifact = await request(`${url}${model.artifacts.classifier.url}`);
    assert.equal(artifact.status, 200);
    assert.ok(artifact.bytes.equals(readFileSync(CLASSIFIER)));
    assert.equal(model.artifacts.classifier.bytes, artifact.bytes.length);
  });

  it('classifies real MNIST test images: the right labels, probabilities summing to 1, and onnxruntime-node\'s numbers', async () => {
    const { rows, data, labels } = mnistTest(COUNT);
    const res = await request(`${url}/v1/models/mnist-classifier/classify`, { body: { images: rows } });
    assert.equal(res.status, 200, res.bytes.toString('utf8'));
    const { label, probabilities, features, numClasses } = res.json as { label: number[]; probabilities: number[][]; features: number[][]; numClasses: number };
    assert.equal(numClasses, 10);
    assert.equal(label.length, COUNT);
    const right = label.filter((l, i) => l === labels[i]).length;
    assert.ok(right >= COUNT - 1, `${right} of ${COUNT} right: ${label} vs ${labels}`);
    for (const [r, p] of probabilities.entries()) {
      assert.equal(p.length, 10);
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) <= SUM_TOLERANCE, `row ${r} sums to ${p.reduce((a, b) => a + b, 0)}`);
      assert.equal(label[r], p.indexOf(Math.max(...p)), `row ${r}: the label is the most probable class`);
    }
    const reference = await ortReference(CLASSIFIER, { image: { data, dims: [COUNT, 1, 28, 28] } });
    assertClose(probabilities.flat(), softmax(reference.logits, 10).flat(), 'probabilities vs softmax(onnxruntime logits)');
    assertClose(features.flat(), reference.features, 'features vs onnxruntime');
  });

  it('answers raw float32 probabilities with their shape for Accept: application/octet-stream', async () => {
    const { rows } = mnistTest(3);
    const json = await request(`${url}/v1/models/mnist-classifier/classify`, { body: { images: rows } });
    const raw = await request(`${url}/v1/models/mnist-classifier/classify`, { body: { images: rows }, headers: { accept: 'application/octet-stream' } });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('x-aekit-shape'), '3,10');
    assert.equal(raw.headers.get('x-aekit-layout'), 'NC');
    assert.deepEqual(Array.from(float32(raw.bytes)), json.json.probabilities.flat());
    assert.equal((await request(`${url}/v1/models/mnist-classifier/classify`, { body: { images: rows }, headers: { accept: 'image/png' } })).status, 406);
  });

  it('takes RGB images for the coloured-MNIST classifier, nested [C][H][W]', async () => {
    const image = Array.from({ length: 3 }, (_, c) => Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => ((x + y + c) % 7) / 7)));
    const res = await request(`${url}/v1/models/colored-mnist-classifier/classify`, { body: { images: [image] } });
    assert.equal(res.status, 200, res.bytes.toString('utf8'));
    assert.equal(res.json.probabilities[0].length, 10);
  });

  describe('bad bodies get a JSON 400 naming the field, as /encode does', () => {
    const cases: { name: string; body: unknown; code: string; where?: string; message: RegExp }[] = [
      { name: 'an image of the wrong size', body: { images: [new Array(783).fill(0)] }, code: 'WRONG_SIZE', where: 'images[0]', message: /has 783 values; model 'mnist-classifier' takes 1x28x28 = 784/ },
      { name: 'a nested image of the wrong shape', body: { images: [Array.from({ length: 28 }, () => new Array(27).fill(0))] }, code: 'WRONG_SIZE', where: 'images[0][0]', message: /expected a row of 28 \(image shape \[28, 28\]\)/ },
      { name: 'one image without the outer list', body: { images: Array.from({ length: 28 }, () => new Array(28).fill(0)) }, code: 'TOO_MANY_ROWS', where: 'images', message: /28 rows, the limit per request is 16 \(--max-rows\); if this is one 1x28x28 image, wrap it in a list/ },
      { name: 'a pixel outside the value range', body: { images: [new Array(784).fill(255)] }, code: 'OUT_OF_RANGE', where: 'images[0][0]', message: /scale 0-255 pixels to \[0, 1\]/ },
      { name: 'no images', body: { images: [] }, code: 'INVALID_BODY', where: 'images', message: /is empty/ },
      { name: 'a label (classifiers take none)', body: { images: [new Array(784).fill(0)], label: 3 }, code: 'BAD_LABEL', where: 'label', message: /is not conditional; leave out 'label'/ },
      { name: 'too many images', body: { images: Array.from({ length: 17 }, () => new Array(784).fill(0)) }, code: 'TOO_MANY_ROWS', where: 'images', message: /17 rows, the limit per request is 16/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const res = await request(`${url}/v1/models/mnist-classifier/classify`, { body: c.body });
        assert.equal(res.status, 400, res.bytes.toString('utf8'));
        assert.equal(res.json.error.code, c.code);
        if (c.where) assert.equal(res.json.error.where, c.where);
        assert.match(res.json.error.message, c.message);
      });
    }
  });

  it('a classifier has no /sample, /decode, /encode or /reconstruct: a JSON 404 saying what it has', async () => {
    for (const [op, body] of [['sample', { n: 1 }], ['decode', { z: [[0]] }], ['encode', { images: [new Array(784).fill(0)] }], ['reconstruct', { images: [new Array(784).fill(0)] }]] as const) {
      const res = await request(`${url}/v1/models/mnist-classifier/${op}`, { body });
      assert.equal(res.status, 404, op);
      assert.equal(res.json.error.code, 'UNSUPPORTED_OPERATION');
      assert.match(res.json.error.message, new RegExp(`^model 'mnist-classifier' has no (decoder|encoder) artifact, which /${op} needs; it has: classifier$`));
    }
  });

  it('is a v2 model as `aekit export --triton` names it, with the same logits', async () => {
    const metadata = (await request(`${url}/v2/models/mnist-classifier-classifier`)).json;
    assert.deepEqual(metadata.inputs, [{ name: 'image', datatype: 'FP32', shape: [-1, 1, 28, 28] }]);
    assert.deepEqual(metadata.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]), [['logits', [-1, 10]], ['features', [-1, 128]]]);
    const { data } = mnistTest(2);
    const res = await request(`${url}/v2/models/mnist-classifier-classifier/infer`, { body: { inputs: [{ name: 'image', shape: [2, 1, 28, 28], datatype: 'FP32', data: Array.from(data) }], outputs: [{ name: 'logits' }] } });
    assert.equal(res.status, 200, res.bytes.toString('utf8'));
    const reference = await ortReference(CLASSIFIER, { image: { data, dims: [2, 1, 28, 28] } });
    assertClose(res.json.outputs[0].data, reference.logits, 'v2 logits vs onnxruntime');
  });

  it('serves a classifier beside latent models; /classify of a latent model is a 404', async () => {
    const artifacts = await testArtifacts();
    const mixed = await startServer({ models: [artifacts.root, CLASSIFIER], port: 0, logger: silentLogger });
    try {
      const models = (await request(`${mixed.url}/v1/models`)).json.models as { name: string; operations: string[]; latentSize?: number }[];
      assert.deepEqual(models.map((m) => [m.name, m.operations]), [['ae', ['decode', 'encode', 'reconstruct']], ['cvae', ['decode', 'sample', 'encode', 'reconstruct']], ['mnist-classifier', ['classify']], ['vae', ['decode', 'sample', 'encode', 'reconstruct']]]);
      const res = await request(`${mixed.url}/v1/models/vae/classify`, { body: { images: [new Array(784).fill(0)] } });
      assert.equal(res.status, 404);
      assert.equal(res.json.error.code, 'UNSUPPORTED_OPERATION');
      assert.match(res.json.error.message, /^model 'vae' has no classifier artifact, which \/classify needs; it has: decoder, encoder$/);
      assert.equal((await request(`${mixed.url}/v1/models/mnist-classifier/classify`, { body: { images: mnistTest(1).rows } })).status, 200);
    } finally {
      await mixed.close();
    }
  });
});
