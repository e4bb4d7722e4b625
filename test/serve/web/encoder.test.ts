/**
 * `loadEncoder` and `loadModel` of the browser module (src/serve/web/encoder.ts), run in Node on
 * onnxruntime-web's wasm provider over trained test artifacts: codes and reconstructions agree
 * with onnxruntime-node's, conditional models take their class, and artifacts that cannot play
 * their part are refused with the URL and the reason.
 */
// Before the web module's static onnxruntime-web import: see test/artifact/agreement.test.ts.
import 'onnxruntime-node';
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadEncoder, loadModel } from '../../../src/serve/web/aekit-web';
import type { LoadDecoderOptions } from '../../../src/serve/web/aekit-web';
import { oneHot, ortReference } from '../helpers';
import { webArtifacts } from '../web-helpers';
import type { WebArtifacts } from '../web-helpers';

/** onnxruntime-web's wasm against onnxruntime-node on the same bytes, as test/artifact/agreement.test.ts bounds it. */
const ATOL = 1e-4;
const RTOL = 1e-4;

/** fetch over local files: a page fetches the same bytes over HTTP. */
const fileFetch = (async (url: string) => {
  try {
    return new Response(await fs.readFile(url));
  } catch {
    return new Response('not found', { status: 404 });
  }
}) as unknown as typeof fetch;
const OPTIONS: LoadDecoderOptions = { fetch: fileFetch, wasmPaths: `${path.dirname(require.resolve('onnxruntime-web'))}/`, numThreads: 1, executionProviders: ['wasm'], log: () => {} };

function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const bound = ATOL + RTOL * Math.abs(expected[i]);
    assert.ok(Math.abs(actual[i] - expected[i]) <= bound, `${what}: value ${i} is ${actual[i]}, expected ${expected[i]} within ${bound}`);
  }
}

/** Two smooth test images in [0, 1]. */
const IMAGES = Float32Array.from({ length: 2 * 784 }, (_, i) => 0.5 + 0.5 * Math.sin(i * 0.11 + Math.floor(i / 784)));

describe('serve/web: encoders and whole models in the browser module (wasm, in Node)', function () {
  this.timeout(120_000);
  let artifacts: WebArtifacts;
  before(async () => {
    artifacts = await webArtifacts();
  });

  it('encodes and reconstructs as onnxruntime-node does, and carries the model facts', async () => {
    const model = await loadModel({ decoder: artifacts.part('vae', 'decoder'), encoder: artifacts.part('vae', 'encoder') }, OPTIONS);
    try {
      assert.ok(model.encoder);
      assert.equal(model.whyNoEncoder, undefined);
      assert.deepEqual([model.encoder.latentSize, model.encoder.imageShape, model.encoder.valueRange], [4, { channels: 1, height: 28, width: 28 }, 'unit']);
      const codes = await model.encoder.encode(IMAGES);
      const reference = await ortReference(artifacts.part('vae', 'encoder'), { image: { data: IMAGES, dims: [2, 1, 28, 28] } });
      assert.equal(codes.rows, 2);
      assertAllClose(codes.z, reference.mu, 'mu');
      assertAllClose(codes.logvar!, reference.logvar, 'logvar');
      const rebuilt = await model.reconstruct({ data: IMAGES, shape: [2, 1, 28, 28], valueRange: 'unit' });
      const decoded = await ortReference(artifacts.part('vae', 'decoder'), { z: { data: reference.mu, dims: [2, 4] } });
      assert.deepEqual(rebuilt.shape, [2, 1, 28, 28]);
      assertAllClose(rebuilt.data, decoded.image, 'reconstruction');
      assertAllClose(rebuilt.z, reference.mu, 'the code it decoded');
    } finally {
      await model.release();
    }
  });

  it('feeds the class to a conditional encoder, and asks for it when it is missing', async () => {
    const encoder = await loadEncoder(artifacts.part('cvae', 'encoder'), OPTIONS);
    try {
      assert.equal(encoder.conditional, true);
      await assert.rejects(encoder.encode(IMAGES), /this model is conditional: pass \{ label \} \(0 \.\. 9\)/);
      const codes = await encoder.encode(IMAGES, { label: [3, 8] });
      const reference = await ortReference(artifacts.part('cvae', 'encoder'), { image: { data: IMAGES, dims: [2, 1, 28, 28] }, label: { data: oneHot([3, 8], 10), dims: [2, 10] } });
      assertAllClose(codes.z, reference.mu, 'cvae mu');
    } finally {
      await encoder.release();
    }
  });

  it('keeps a joint VAE decodable and says why it cannot reconstruct', async () => {
    const model = await loadModel({ decoder: artifacts.part('joint', 'decoder'), encoder: artifacts.part('joint', 'encoder') }, OPTIONS);
    try {
      assert.equal(model.encoder, undefined);
      assert.match(model.whyNoEncoder!, /the joint-vae encoder has no output that is the decoder's whole input \('mu' or 'code' of 13 values\); its outputs: mu \[batch, 3\], logvar \[batch, 3\], logits \[batch, 10\]/);
      await assert.rejects(model.reconstruct(IMAGES.subarray(0, 784)), /cannot reconstruct with this joint-vae: the joint-vae encoder has no output/);
      assert.equal((await model.decoder.decode([new Array<number>(13).fill(0)])).shape[0], 1);
    } finally {
      await model.release();
    }
  });

  it('refuses artifacts that cannot play their part, naming the URL', async () => {
    const decoderUrl = artifacts.part('vae', 'decoder');
    await assert.rejects(loadEncoder(decoderUrl, OPTIONS), (e: Error) => e.message.startsWith(`aekit-web: ${decoderUrl}: artifact part is 'decoder', expected an encoder`));
    await assert.rejects(loadModel({ decoder: decoderUrl, encoder: artifacts.part('ae', 'encoder') }, OPTIONS), /disagree on \[latent size, image shape, value range, classes\]: \[5,.*\] vs \[4,/);
    await assert.rejects(loadEncoder(path.join(artifacts.root, 'nothing.onnx'), OPTIONS), /fetching .*nothing\.onnx failed: HTTP 404/);
    const encoder = await loadEncoder(artifacts.part('vae', 'encoder'), OPTIONS);
    try {
      await assert.rejects(encoder.encode({ data: new Float32Array(28 * 27), shape: [1, 1, 28, 27], valueRange: 'unit' }), /images are 1x28x27, expected 1x28x28 \(the model's image shape\)/);
      await assert.rejects(encoder.encode(new Float32Array(100)), /images have 100 values, expected a multiple of 784 \(1x28x28, NCHW\)/);
      await assert.rejects(encoder.encode(new Float32Array(784).fill(Number.NaN)), /image value 0 is NaN, expected a finite number/);
    } finally {
      await encoder.release();
    }
  });
});
