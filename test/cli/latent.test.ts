import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePng } from '../../src/core/image-io';
import { digitFolders, trainedEncoder } from '../eval/latent/helpers';
import { runCli } from './cli-helpers';

const OMNIGLOT_MINI = path.resolve(__dirname, '..', '..', 'fixtures', 'omniglot-mini');

async function pngSize(file: string): Promise<[number, number]> {
  const png = decodePng(await fs.readFile(file));
  return [png.width, png.height];
}

describe('aekit latent (built CLI)', function () {
  this.timeout(120_000);
  let tmp: string;
  let encoder: string;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-cli-latent-'));
    encoder = (await trainedEncoder(tmp)).encoder;
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('fit saves a GMM next to the encoder; sample draws a grid from it', async () => {
    const fit = await runCli(['latent', 'fit', encoder, '--dataset', 'mnist', '--split', 'train', '--limit', '500', '--kind', 'gmm', '--components', '3']);
    assert.equal(fit.code, 0, fit.stderr);
    assert.match(fit.stdout, /fitted a gmm \(3 components, full covariance\) to 500 codes of size 2/);
    const saved = JSON.parse(await fs.readFile(path.join(path.dirname(encoder), 'encoder.latent-gmm.json'), 'utf8')) as { kind: string; components: unknown[] };
    assert.deepEqual([saved.kind, saved.components.length], ['gmm', 3]);

    const out = path.join(tmp, 'samples.png');
    const sample = await runCli(['latent', 'sample', encoder, '--count', '12', '--columns', '6', '--out', out]);
    assert.equal(sample.code, 0, sample.stderr);
    assert.match(sample.stdout, /12 samples from .*encoder\.latent-gmm\.json/);
    // 6 x 2 images of 28 pixels at 3x, 2-pixel gaps.
    assert.deepEqual(await pngSize(out), [6 * 84 + 7 * 2, 2 * 84 + 3 * 2]);
  });

  it('vector from folder names, apply to other images, interpolate with a GIF, scatter, classify', async () => {
    const digits = await digitFolders(path.join(tmp, 'digits'), [0, 1], 10);
    const vectorFile = path.join(tmp, 'one.json');
    const vector = await runCli(['latent', 'vector', encoder, '--data', digits, '--groups', 'digit1,digit0', '--out', vectorFile]);
    assert.equal(vector.code, 0, vector.stderr);
    assert.match(vector.stdout, /vector 'digit1 - digit0' from 10 vs 10 images/);
    const csv = await runCli(['latent', 'vector', encoder, '--data', digits, '--labels', path.join(digits, 'labels.csv'), '--attribute', 'is_one', '--out', path.join(tmp, 'csv.json')]);
    assert.equal(csv.code, 0, csv.stderr);
    const [a, b] = await Promise.all([vectorFile, path.join(tmp, 'csv.json')].map(async (f) => JSON.parse(await fs.readFile(f, 'utf8')) as { vector: number[] }));
    assert.deepEqual(a.vector, b.vector);

    const applied = path.join(tmp, 'applied.png');
    const zeros = [path.join(digits, 'digit0', '00.png'), path.join(digits, 'digit0', '01.png')];
    const apply = await runCli(['latent', 'apply', encoder, '--vector', vectorFile, '--images', ...zeros, '--scales', '0,1,2', '--out', applied]);
    assert.equal(apply.code, 0, apply.stderr);
    // A row per image: the input, then 3 strengths.
    assert.deepEqual(await pngSize(applied), [4 * 84 + 5 * 2, 2 * 84 + 3 * 2]);

    const strip = path.join(tmp, 'walk.png');
    const gif = path.join(tmp, 'walk.gif');
    const walk = await runCli(['latent', 'interpolate', encoder, '--from', zeros[0], '--to', path.join(digits, 'digit1', '00.png'), '--steps', '5', '--method', 'slerp', '--out', strip, '--gif', gif]);
    assert.equal(walk.code, 0, walk.stderr);
    assert.deepEqual(await pngSize(strip), [5 * 84 + 6 * 2, 84 + 2 * 2]);
    assert.equal((await fs.readFile(gif)).subarray(0, 6).toString('latin1'), 'GIF89a');

    const scatter = path.join(tmp, 'scatter.png');
    const plot = await runCli(['latent', 'scatter', encoder, '--dataset', 'mnist', '--limit', '200', '--out', scatter]);
    assert.equal(plot.code, 0, plot.stderr);
    assert.match(plot.stdout, /200 codes of size 2/);
    assert.deepEqual(await pngSize(scatter), [640, 560]);

    const json = path.join(tmp, 'classify.json');
    const classify = await runCli(['latent', 'classify', encoder, '--data', OMNIGLOT_MINI, '--classifiers', 'knn', '--json', json]);
    assert.equal(classify.code, 0, classify.stderr);
    assert.match(classify.stdout, /6 classes, 18 training and 6 test images/);
    assert.match(classify.stdout, /\| representation \| family \| dims \| knn acc\. \|/);
    const result = JSON.parse(await fs.readFile(json, 'utf8')) as { rows: { name: string }[] };
    assert.deepEqual(result.rows.map((r) => r.name), [encoder, 'pixels']);
  });

  it('a conditional VAE: sample generates chosen classes on demand; interpolate takes the class from --label', async () => {
    const cvae = (await trainedEncoder(tmp, 'cvae', { family: 'cvae', architecture: 'mlp', hiddenSizes: [64], latentSize: 4 })).encoder;
    const out = path.join(tmp, 'fives-and-sevens.png');
    const sample = await runCli(['latent', 'sample', cvae, '--classes', '5,7', '--count', '8', '--out', out]);
    assert.equal(sample.code, 0, sample.stderr);
    assert.match(sample.stdout, /8 samples from N\(0, I\) of classes 5, 7/);
    // One row of 4 per class.
    assert.deepEqual(await pngSize(out), [4 * 84 + 5 * 2, 2 * 84 + 3 * 2]);
    const none = await runCli(['latent', 'sample', cvae, '--out', out]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /this cvae is conditional: choose the classes to generate with --classes \(0\.\.9\)/);
    const wrong = await runCli(['latent', 'sample', cvae, '--classes', '12', '--out', out]);
    assert.match(wrong.stderr, /--classes: 12 is not a class of this model \(0\.\.9\)/);

    // Interpolating between image files (which carry no class): the walk's class comes from --label.
    const digits = await digitFolders(path.join(tmp, 'cvae-digits'), [3, 8], 1);
    const ends = ['--from', path.join(digits, 'digit3', '00.png'), '--to', path.join(digits, 'digit8', '00.png')];
    const walk = path.join(tmp, 'cvae-walk.png');
    const labelled = await runCli(['latent', 'interpolate', cvae, ...ends, '--label', '3', '--steps', '4', '--out', walk]);
    assert.equal(labelled.code, 0, labelled.stderr);
    assert.deepEqual(await pngSize(walk), [4 * 84 + 5 * 2, 84 + 2 * 2]);
    const unlabelled = await runCli(['latent', 'interpolate', cvae, ...ends, '--out', walk]);
    assert.equal(unlabelled.code, 1);
    assert.match(unlabelled.stderr, /^aekit: .*encoder\.onnx: this cvae is conditional: give the class of the walk with --label \(0\.\.9\); image files carry no class\n$/);
    const outside = await runCli(['latent', 'interpolate', cvae, ...ends, '--label', '10', '--out', walk]);
    assert.match(outside.stderr, /--label: 10 is not a class of this model \(0\.\.9\)/);
    // A folder's images have a class (their folder's index): no --label needed.
    const fromFolder = await runCli(['latent', 'interpolate', cvae, '--data', digits, '--pairs', '1', '--steps', '3', '--out', walk]);
    assert.equal(fromFolder.code, 0, fromFolder.stderr);
  });

  it('says in one line what is wrong', async () => {
    const noGroups = await runCli(['latent', 'vector', encoder, '--data', OMNIGLOT_MINI, '--groups', 'smiling,sad', '--out', path.join(tmp, 'x.json')]);
    assert.equal(noGroups.code, 1);
    assert.match(noGroups.stderr, /^aekit: .*omniglot-mini: no images in folder 'smiling'; the folders are: alphabet01\/character01, [^\n]*\n$/);
    const noFit = await runCli(['latent', 'sample', encoder, '--distribution', 'gaussian', '--out', path.join(tmp, 'x.png')]);
    assert.equal(noFit.code, 1);
    assert.match(noFit.stderr, /^aekit: .*encoder\.latent-gaussian\.json: no fitted gaussian next to the encoder; run `aekit latent fit/);
  });
});
