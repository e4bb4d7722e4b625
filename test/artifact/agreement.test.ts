/**
 * One artifact, one description: for every registered family, the parts of an untrained tiny model
 * are exported and loaded by each stage that reads artifacts: serve (`loadModels` and the running
 * server), eval (`loadTarget` -> `OnnxModel` + `ModelIo`) and the browser module (`loadDecoder` on
 * onnxruntime-web's wasm provider, in Node). All must see the facts the model was built with
 * (latent size, image shape, value range, classes, whether it can be sampled), and decode the same
 * latents to the same images.
 */
// Before the web module's static onnxruntime-web import: onnxruntime-common keeps the first backend
// registered as 'cpu', and serve and eval must run on onnxruntime-node (test/train/engines/ort/web-bundle.test.ts).
import 'onnxruntime-node';
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { silentLogger } from '../../src/core/log';
import { useBackend } from '../../src/core/tfjs-backend';
import { DECODING_PARTS, DRAWABLE_PRIORS } from '../../src/artifact/info';
import type { ModelSummary } from '../../src/artifact/info';
import { drawLatents, normalSamples } from '../../src/artifact/prior';
import { ModelIo } from '../../src/eval/model-io';
import { loadTarget } from '../../src/eval/target';
import type { LoadedTarget } from '../../src/eval/target';
import { exportLayersModel } from '../../src/export/export';
import { artifactMetadata } from '../../src/export/run-export';
import { familyNames, getFamily } from '../../src/models';
import type { PartName } from '../../src/models';
import { startServer } from '../../src/serve';
import type { AekitServer } from '../../src/serve';
import { loadModels } from '../../src/serve/models';
import type { ServedModel } from '../../src/serve/models';
import { loadDecoder } from '../../src/serve/web/aekit-web';
import type { Decoder, LoadDecoderOptions } from '../../src/serve/web/aekit-web';
import { TEST_SHAPE, testShape, tinyModel } from '../models/describe-family';
import { request } from '../serve/helpers';

/** Every registered family, read once (tests that register probe families run later). */
const FAMILIES = familyNames();

/**
 * onnxruntime-node (serve, eval) against onnxruntime-web's wasm (aekit-web) on the same bytes: the
 * export stage's parity bound (test/models/describe-family.ts), as |a - b| <= atol + rtol * |b|.
 */
const ATOL = 1e-4;
const RTOL = 1e-4;

const ROWS = 3;
const SEED = 5;

/** fetch over local files, for `loadDecoder` in Node (a page fetches the same bytes over HTTP). */
const fileFetch = (async (url: string) => new Response(await fs.readFile(url))) as unknown as typeof fetch;
const WEB_OPTIONS: LoadDecoderOptions = { fetch: fileFetch, wasmPaths: `${path.dirname(require.resolve('onnxruntime-web'))}/`, numThreads: 1, executionProviders: ['wasm'], log: () => {} };

/** The facts the three loaders must agree on. */
type Facts = Pick<ModelSummary, 'latentSize' | 'imageShape' | 'valueRange' | 'conditional' | 'numClasses' | 'canSample'>;

function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const bound = ATOL + RTOL * Math.abs(expected[i]);
    assert.ok(Math.abs(actual[i] - expected[i]) <= bound, `${what}: value ${i} is ${actual[i]}, expected ${expected[i]} within ${bound}`);
  }
}

/** Export every part of the family's tiny model (untrained) to `<dir>/<part>.onnx`, with the run id `name`. */
async function exportTiny(name: string, dir: string): Promise<void> {
  const model = tinyModel(name, 3);
  try {
    await fs.mkdir(dir, { recursive: true });
    for (const part of getFamily(name).exportParts) {
      const names = model.ioNames[part]!;
      const result = await exportLayersModel(model.parts[part]!, {
        part,
        metadata: {
          ...artifactMetadata(model, name, 'fixture'),
          ...(model.conditional && names.inputs.includes('label') ? { labelInput: { name: 'label', encoding: 'one-hot' as const } } : {}),
        },
        inputNames: names.inputs,
        outputNames: names.outputs,
      });
      await fs.writeFile(path.join(dir, `${part}.onnx`), result.bytes);
    }
  } finally {
    model.dispose();
  }
}

/** What the family's tiny model is, from the model itself and its registry entry. */
function builtFacts(name: string): Facts {
  const model = tinyModel(name, 3);
  try {
    const family = getFamily(name);
    const decodes = family.exportParts.some((p) => DECODING_PARTS.includes(p));
    const prior = family.evaluation.prior;
    return {
      latentSize: model.latentSize!,
      imageShape: { channels: TEST_SHAPE.channels, height: TEST_SHAPE.height, width: TEST_SHAPE.width },
      valueRange: testShape(name).valueRange,
      conditional: model.conditional,
      ...(model.conditional ? { numClasses: TEST_SHAPE.numClasses } : {}),
      canSample: decodes && prior !== undefined && DRAWABLE_PRIORS.includes(prior),
    };
  } finally {
    model.dispose();
  }
}

function factsOf(summary: ModelSummary): Facts {
  const { latentSize, imageShape, valueRange, conditional, numClasses, canSample } = summary;
  return { latentSize, imageShape: { ...imageShape }, valueRange, conditional, ...(numClasses !== undefined ? { numClasses } : {}), canSample };
}

/** The facts as eval's ModelIo sees them (its own readers: latent input, label width, prior kind). */
function evalFacts(io: ModelIo): Facts {
  const main = (io.generator ?? io.encoder)!;
  const classes = io.labelWidth(main);
  const prior = io.priorKind();
  return {
    latentSize: io.generator ? io.latentInput().size : io.encoder!.info.latentSize!,
    imageShape: { ...main.info.imageShape! },
    valueRange: io.valueRange,
    conditional: classes > 0,
    ...(classes > 0 ? { numClasses: classes } : {}),
    canSample: prior !== undefined && DRAWABLE_PRIORS.includes(prior),
  };
}

function oneHotRows(label: number, rows: number, classes: number): Float32Array {
  const out = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) out[r * classes + label] = 1;
  return out;
}

describe('artifact: serve, eval and aekit-web read one description of every family\'s artifacts', function () {
  this.timeout(300_000);
  let root: string;
  let served: ServedModel[];
  let server: AekitServer;

  before(async () => {
    await useBackend('wasm');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-agreement-'));
    for (const name of FAMILIES) await exportTiny(name, path.join(root, name));
    served = await loadModels([root], silentLogger);
    server = await startServer({ models: root, port: 0, logger: silentLogger });
  });

  after(async () => {
    await server?.close();
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it('serves a model for exactly the families that export a decoder, generator, encoder or classifier', () => {
    const expected = FAMILIES.filter((name) => getFamily(name).exportParts.some((p) => p === 'encoder' || p === 'classifier' || DECODING_PARTS.includes(p)));
    assert.deepEqual(served.map((m) => m.name), [...expected].sort());
    assert.deepEqual(server.models.map((m) => m.name), served.map((m) => m.name));
  });

  for (const name of FAMILIES) {
    it(`${name}: the same facts in every stage, and the same images from the same latents`, async () => {
      const family = getFamily(name);
      const file = (part: PartName) => path.join(root, name, `${part}.onnx`);
      const decodingPart = family.exportParts.find((p) => DECODING_PARTS.includes(p));
      const target: LoadedTarget = await loadTarget(path.join(root, name));
      const io = new ModelIo(target, { channels: TEST_SHAPE.channels, height: TEST_SHAPE.height, width: TEST_SHAPE.width });
      let web: Decoder | undefined;
      try {
        const model = served.find((m) => m.name === name);
        if (!model || model.kind === 'classifier') {
          // Nothing aekit-web decodes; nothing the server runs but a classifier (not cyclegan's translators and discriminators).
          for (const part of family.exportParts) await assert.rejects(loadDecoder(file(part), WEB_OPTIONS), new RegExp(`artifact part is '${part}', expected a decoder or generator`));
          const imageShape = { channels: TEST_SHAPE.channels, height: TEST_SHAPE.height, width: TEST_SHAPE.width };
          for (const part of Object.values(target.parts)) assert.deepEqual(part.info.imageShape, imageShape, part.path);
          if (family.exportParts.includes('generatorAB')) assert.ok(io.translators, 'eval loads both translation directions');
          if (!model) return;
          assert.equal(io.classifier?.info.numClasses, TEST_SHAPE.numClasses);
          const listing = (await request(`${server.url}/v1/models/${name}`)).json;
          assert.deepEqual({ operations: listing.operations, latentSize: listing.latentSize, imageShape: listing.imageShape, numClasses: listing.numClasses }, { operations: ['classify'], latentSize: undefined, imageShape, numClasses: TEST_SHAPE.numClasses });
          // The server's probabilities put eval's top-1 class on top (an untrained model's near-ties may go either way).
          const size = imageShape.channels * imageShape.height * imageShape.width;
          const images = Float32Array.from(normalSamples(ROWS * size, SEED), (v) => 1 / (1 + Math.exp(-v)));
          const labels = await io.classify(images, ROWS);
          const classified = await request(`${server.url}/v1/models/${name}/classify`, { body: { images: Array.from({ length: ROWS }, (_, r) => Array.from(images.subarray(r * size, (r + 1) * size))) } });
          assert.equal(classified.status, 200, classified.bytes.toString('utf8'));
          (classified.json.probabilities as number[][]).forEach((p, r) => assert.ok(p[labels[r]] >= Math.max(...p) - 1e-6, `image ${r}: eval's class ${labels[r]}, probabilities ${p}`));
          return;
        }
        const truth = builtFacts(name);
        assert.deepEqual(factsOf(model), truth, 'serve (loadModels)');
        assert.deepEqual(evalFacts(io), truth, 'eval (ModelIo)');
        const listing = (await request(`${server.url}/v1/models/${name}`)).json;
        assert.deepEqual({ ...factsOf({ ...listing, canSample: listing.operations.includes('sample') }) }, truth, 'serve (/v1/models)');
        // An encoder is offered for /encode and /reconstruct exactly when eval finds a code that feeds the decoder.
        if (model.encoder) {
          const hasCode = io.codeOutputName() !== undefined;
          assert.equal(listing.operations.includes('encode'), hasCode, 'encode');
          assert.equal(listing.operations.includes('reconstruct'), hasCode && model.decoder !== undefined, 'reconstruct');
          if (!hasCode) {
            const res = await request(`${server.url}/v1/models/${name}/encode`, { body: { images: [new Array(64).fill(0.5)] } });
            assert.equal(res.status, 404);
            assert.equal(res.json.error.code, 'UNSUPPORTED_OPERATION');
            assert.match(res.json.error.message, /encoder has no output that is the decoder's whole input/);
          }
        }
        if (!decodingPart) return;

        web = await loadDecoder(file(decodingPart), WEB_OPTIONS);
        assert.deepEqual(factsOf(web), truth, 'aekit-web (loadDecoder)');
        const label = truth.conditional ? { label: 1 } : {};
        const labelRows = truth.conditional ? oneHotRows(1, ROWS, truth.numClasses!) : undefined;
        const z = normalSamples(ROWS * truth.latentSize, SEED);
        const evalImages = await io.decode(z, ROWS, labelRows);
        const webImages = await web.decode(z, label);
        assert.deepEqual(webImages.shape, [ROWS, truth.imageShape.channels, truth.imageShape.height, truth.imageShape.width]);
        assertAllClose(webImages.data, evalImages, 'aekit-web vs eval decode');
        const decoded = await request(`${server.url}/v1/models/${name}/decode`, { body: { z: Array.from({ length: ROWS }, (_, r) => Array.from(z.subarray(r * truth.latentSize, (r + 1) * truth.latentSize))), ...label } });
        assert.equal(decoded.status, 200, decoded.bytes.toString('utf8'));
        assertAllClose(decoded.json.images.flat(), evalImages, 'serve vs eval decode');

        if (!truth.canSample) {
          const refused = await request(`${server.url}/v1/models/${name}/sample`, { body: { n: 1 } });
          assert.equal(refused.status, 404);
          assert.equal(refused.json.error.code, 'UNSUPPORTED_OPERATION');
          await assert.rejects(web.sample(1, SEED, label), /cannot be sampled/);
          return;
        }
        // Both draw with the artifact layer's seeded sampler: the same latents, bit for bit.
        const sampled = await request(`${server.url}/v1/models/${name}/sample`, { body: { n: ROWS, seed: SEED, ...label } });
        assert.equal(sampled.status, 200, sampled.bytes.toString('utf8'));
        const webSample = await web.sample(ROWS, SEED, label);
        assert.deepEqual(sampled.json.z.flat(), Array.from(webSample.z));
        assert.deepEqual(Array.from(webSample.z), Array.from(drawLatents(model.decoder!.info, ROWS, SEED)));
        assertAllClose(webSample.data, sampled.json.images.flat(), 'aekit-web vs serve sample');
      } finally {
        await web?.release();
        await target.release();
      }
    });
  }

  it('POST /v1/models/beta-vae/sample answers images drawn from N(0, I)', async () => {
    const res = await request(`${server.url}/v1/models/beta-vae/sample`, { body: { n: 4, seed: 11 } });
    assert.equal(res.status, 200, res.bytes.toString('utf8'));
    assert.deepEqual(res.json.shape, [4, 1, 8, 8]);
    assert.equal(res.json.seed, 11);
    assert.deepEqual(res.json.z.flat(), Array.from(normalSamples(4 * res.json.z[0].length, 11)));
    const images: number[] = res.json.images.flat();
    assert.equal(images.length, 4 * 64);
    assert.ok(images.every((v) => Number.isFinite(v) && v >= 0 && v <= 1), 'unit-range images');
  });
});
