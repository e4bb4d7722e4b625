import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePng } from '../../../src/core/image-io';
import {
  applyAttributeVector,
  attributeVector,
  classifyRepresentations,
  distributionPath,
  fitLatentDistribution,
  interpolateCodes,
  interpolateImages,
  interpolationGif,
  loadDistribution,
  loadLatentImages,
  openLatentModel,
  projectTo2d,
  resolveDistribution,
  sampleImages,
  saveDistribution,
  scatterPng,
  selectGroups,
  splitPerClass,
  subsetLatentImages,
} from '../../../src/eval/latent';
import type { LatentModel } from '../../../src/eval/latent';
import { digitFolders, trainedEncoder } from './helpers';

const OMNIGLOT_MINI = path.resolve(__dirname, '..', '..', '..', 'fixtures', 'omniglot-mini');

function meanSquaredDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

describe('latent tools on an exported VAE', function () {
  this.timeout(60_000);
  let tmp: string;
  let model: LatentModel;
  let encoderPath: string;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-latent-'));
    encoderPath = (await trainedEncoder(tmp)).encoder;
    model = await openLatentModel(encoderPath);
  });
  after(async () => {
    await model?.release();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('opens the encoder with the decoder next to it', () => {
    assert.equal(model.family, 'vae');
    assert.equal(model.latentSize, 2);
    assert.equal(model.numClasses, 0);
    assert.deepEqual(model.imageShape, { height: 28, width: 28, channels: 1 });
    assert.equal(model.decoderPath, path.join(path.dirname(encoderPath), 'decoder.onnx'));
  });

  it("refuses a decoder given for the encoder, pointing at the run's encoder", async () => {
    const decoder = path.join(path.dirname(encoderPath), 'decoder.onnx');
    await assert.rejects(openLatentModel(decoder), (e: Error) => {
      assert.equal(e.message, `${decoder}: expected an encoder artifact, found part 'decoder'; give its run's encoder (${encoderPath} where aekit export wrote both)`);
      return true;
    });
  });

  it('fits a GMM to codes, saves it next to the encoder, and samples images from it', async () => {
    const images = await loadLatentImages({ dataset: 'mnist', split: 'train', limit: 500 }, model.imageShape);
    assert.equal(images.count, 500);
    const gmm = await fitLatentDistribution(model, images, { kind: 'gmm', components: 3, seed: 1 });
    assert.equal(gmm.components.length, 3);
    assert.equal(gmm.fit.count, 500);
    const file = distributionPath(encoderPath, 'gmm');
    assert.equal(file, path.join(path.dirname(encoderPath), 'encoder.latent-gmm.json'));
    await saveDistribution(gmm, file);
    assert.deepEqual(await loadDistribution(file, 2), JSON.parse(JSON.stringify(gmm)));
    // Without a choice, sample uses what was fitted next to the encoder.
    const { distribution, from } = await resolveDistribution(model);
    assert.equal(from, file);
    assert.equal((await resolveDistribution(model, 'prior')).from, 'N(0, I)');
    await assert.rejects(resolveDistribution(model, 'gaussian'), /no fitted gaussian next to the encoder/);
    const samples = await sampleImages(model, distribution, 8, 4);
    assert.equal(samples.length, 8 * 28 * 28);
    assert.ok(samples.every((v) => v >= 0 && v <= 1));
    assert.deepEqual(await sampleImages(model, distribution, 8, 4), samples);
    assert.notDeepEqual(await sampleImages(model, distribution, 8, 5), samples);
  });

  it('makes an attribute vector from folder names or a labels CSV, and applying it moves images towards group A', async () => {
    const root = await digitFolders(path.join(tmp, 'digits'), [0, 1], 20);
    const images = await loadLatentImages({ folder: root }, model.imageShape);
    const byFolder = await selectGroups(images, { kind: 'folders', a: 'digit1', b: 'digit0' });
    assert.deepEqual([byFolder.a.length, byFolder.b.length], [20, 20]);
    const byCsv = await selectGroups(images, { kind: 'csv', file: path.join(root, 'labels.csv'), column: 'is_one' });
    const byValues = await selectGroups(images, { kind: 'csv', file: path.join(root, 'labels.csv'), column: 'digit', a: '1', b: '0' });
    assert.deepEqual([byCsv.a, byCsv.b], [byFolder.a, byFolder.b]);
    assert.deepEqual([byValues.a, byValues.b], [byFolder.a, byFolder.b]);
    await assert.rejects(selectGroups(images, { kind: 'folders', a: 'digit1', b: 'smiling' }), /no images in folder 'smiling'; the folders are: digit0, digit1/);
    await assert.rejects(selectGroups(images, { kind: 'csv', file: path.join(root, 'labels.csv'), column: 'Smiling' }), /no attribute column 'Smiling'/);

    const vector = await attributeVector(model, images, byFolder);
    const codes = await model.encode(images.images, images.count);
    const mean = (rows: number[], j: number) => rows.reduce((s, r) => s + codes[r * 2 + j], 0) / rows.length;
    for (const j of [0, 1]) assert.ok(Math.abs(vector.vector[j] - (mean(byFolder.a, j) - mean(byFolder.b, j))) < 1e-5);
    assert.equal(vector.name, 'digit1 - digit0');

    const zeros = subsetLatentImages(images, byFolder.b.slice(0, 6));
    const ones = subsetLatentImages(images, byFolder.a);
    const edited = await applyAttributeVector(model, zeros, vector, [0, 1]);
    const per = 28 * 28;
    // Scale 0 is the plain reconstruction.
    const reconstructions = await model.decode(await model.encode(zeros.images, zeros.count), zeros.count);
    for (let i = 0; i < zeros.count; i++) {
      assert.ok(meanSquaredDistance(edited.subarray(2 * i * per, (2 * i + 1) * per), reconstructions.subarray(i * per, (i + 1) * per)) < 1e-10);
    }
    // With the vector added, the zeros look like the mean reconstructed 'one' more than their own reconstructions do.
    const onesDecoded = await model.decode(await model.encode(ones.images, ones.count), ones.count);
    const meanOne = new Float32Array(per);
    for (let i = 0; i < ones.count; i++) for (let p = 0; p < per; p++) meanOne[p] += onesDecoded[i * per + p] / ones.count;
    let [before, after] = [0, 0];
    for (let i = 0; i < zeros.count; i++) {
      before += meanSquaredDistance(edited.subarray(2 * i * per, (2 * i + 1) * per), meanOne);
      after += meanSquaredDistance(edited.subarray((2 * i + 1) * per, (2 * i + 2) * per), meanOne);
    }
    assert.ok(after < before, `distance to the mean one: ${after} with the vector, ${before} without`);
  });

  it('interpolates between codes (linear and slerp keep the ends) and decodes walks into a GIF', async () => {
    const a = [1, 0];
    const b = [0, 2];
    const line = interpolateCodes(a, b, 5);
    assert.deepEqual(Array.from(line.subarray(4, 6)), [0.5, 1]);
    const arc = interpolateCodes(a, b, 3, 'slerp');
    assert.deepEqual([Array.from(arc.subarray(0, 2)), Array.from(arc.subarray(4, 6))].map((v) => v.map((x) => Number(x.toFixed(6)))), [a, b]);
    // Halfway along the arc between orthogonal codes of norms 1 and 2: weights sin(pi/4)/sin(pi/2) each.
    assert.ok(Math.abs(arc[2] - Math.SQRT1_2) < 1e-6 && Math.abs(arc[3] - 2 * Math.SQRT1_2) < 1e-6);

    const images = await loadLatentImages({ dataset: 'mnist', limit: 4, seed: 3 }, model.imageShape);
    const from = subsetLatentImages(images, [0, 1]);
    const to = subsetLatentImages(images, [2, 3]);
    const walks = await interpolateImages(model, from.images, to.images, 2, { steps: 6 });
    const per = 28 * 28;
    assert.equal(walks.length, 2 * 6 * per);
    // Each walk starts at its first image's reconstruction and ends at its second's.
    const recFrom = await model.decode(await model.encode(from.images, 2), 2);
    const recTo = await model.decode(await model.encode(to.images, 2), 2);
    for (const p of [0, 1]) {
      assert.ok(meanSquaredDistance(walks.subarray(p * 6 * per, (p * 6 + 1) * per), recFrom.subarray(p * per, (p + 1) * per)) < 1e-10);
      assert.ok(meanSquaredDistance(walks.subarray((p * 6 + 5) * per, (p * 6 + 6) * per), recTo.subarray(p * per, (p + 1) * per)) < 1e-10);
    }
    const gif = Buffer.from(interpolationGif(walks, 2, 6, model.imageShape));
    assert.equal(gif.subarray(0, 6).toString('latin1'), 'GIF89a');
    // Logical screen: two 28x28 images at 3x with 2-pixel gaps.
    assert.deepEqual([gif.readUInt16LE(6), gif.readUInt16LE(8)], [2 * 84 + 3 * 2, 84 + 2 * 2]);
    // Ping-pong: 6 steps forth, 4 back; one image descriptor (0x2c after a graphic control block) per frame.
    let frames = 0;
    for (let i = 0; i + 8 < gif.length; i++) if (gif[i] === 0x21 && gif[i + 1] === 0xf9 && gif[i + 8] === 0x2c) frames++;
    assert.equal(frames, 10);
  });

  it('draws a class-coloured scatter of the codes (PCA for more than 2 dimensions)', async () => {
    const images = await loadLatentImages({ dataset: 'mnist', limit: 300 }, model.imageShape);
    const { values, size } = await model.features(images.images, images.count);
    const identity = projectTo2d(values, images.count, size);
    assert.equal(identity.method, 'identity');
    const png = decodePng(scatterPng(identity, { title: 'codes', labels: images.labels, classNames: images.classNames }));
    assert.deepEqual([png.width, png.height], [640, 560]);
    // Dots of several class colours are drawn: count pixels of tab10's blue (class 0) and orange (class 1).
    const count = (r: number, g: number, b: number) => {
      let n = 0;
      for (let i = 0; i < png.rgba.length; i += 4) if (png.rgba[i] === r && png.rgba[i + 1] === g && png.rgba[i + 2] === b) n++;
      return n;
    };
    assert.ok(count(0x1f, 0x77, 0xb4) > 50 && count(0xff, 0x7f, 0x0e) > 50);
    // 3-D codes on a plane: PCA finds the plane, explaining all the variance in two axes.
    const planar = new Float32Array(300 * 3).map((_, i) => (i % 3 === 2 ? 2 * Math.sin(i) : i % 3 === 0 ? Math.cos(i) : 0.1 * Math.sin(i)));
    const pca = projectTo2d(planar, 300, 3);
    assert.equal(pca.method, 'pca');
    assert.ok(pca.explained![0] + pca.explained![1] > 0.999 && pca.explained![0] > pca.explained![1]);
  });

  it('scores classifiers on codes and on pixels with a per-class split of an Omniglot-layout folder', async () => {
    const split = splitPerClass(Int32Array.from([0, 0, 0, 0, 1, 1, 2]), 7, 0.25, 0);
    assert.deepEqual([split.train.length, split.test.length], [5, 2]);
    assert.ok([0, 1].every((c) => [...split.test].some((r) => [0, 0, 0, 0, 1, 1, 2][r] === c)), 'classes 0 and 1 each lose one image to test');

    const images = await loadLatentImages({ folder: OMNIGLOT_MINI }, model.imageShape);
    assert.deepEqual([images.count, images.classNames.length], [24, 6]);
    const result = await classifyRepresentations([model], images, { classifiers: ['knn', 'logistic-regression'], seed: 0 });
    assert.deepEqual([result.numClasses, result.trainCount, result.testCount], [6, 18, 6]);
    assert.deepEqual(result.rows.map((r) => [r.name, r.dim]), [[encoderPath, 2], ['pixels', 784]]);
    for (const row of result.rows) for (const s of row.scores) assert.ok(s.accuracy >= 0 && s.accuracy <= 1);
    // The fixture's drawings of one character are alike: k-NN on pixels gets them.
    assert.ok(result.rows[1].scores.find((s) => s.classifier === 'knn')!.accuracy >= 5 / 6);
  });
});
