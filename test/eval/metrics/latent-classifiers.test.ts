import { strict as assert } from 'node:assert';
import { Rng } from '../../../src/core/rng';
import { LATENT_CLASSIFIERS, scoreClassifiers } from '../../../src/eval/metrics/latent-classifiers';
import { RandomForest } from '../../../src/eval/metrics/random-forest';

/** Gaussian blobs: class c is centred at 2.5 * e_c in `dim` dimensions (well separated, not trivially). */
function blobs(count: number, dim: number, classes: number, seed: number) {
  const rng = new Rng(seed);
  const features = new Float32Array(count * dim);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = rng.int(classes);
    labels[i] = c;
    for (let j = 0; j < dim; j++) features[i * dim + j] = rng.normal() + (j === c ? 2.5 : 0);
  }
  return { features, labels, count, dim };
}

describe('eval/metrics: latent classifiers', () => {
  const classes = 4;
  const train = blobs(400, 6, classes, 1);
  const test = blobs(200, 6, classes, 2);

  it('every classifier beats chance on separable blobs, and is seeded', async () => {
    const scores = await scoreClassifiers(train, test, { numClasses: classes, seed: 0 });
    assert.deepEqual(scores.map((s) => s.classifier), [...LATENT_CLASSIFIERS]);
    // Chance is 25%; the Bayes rate on these blobs is about 85%.
    for (const s of scores) assert.ok(s.accuracy > 0.7, `${s.classifier}: ${s.accuracy}`);
    const again = await scoreClassifiers(train, test, { numClasses: classes, seed: 0, classifiers: ['random-forest', 'knn'] });
    assert.equal(again[0].accuracy, scores[3].accuracy);
    assert.equal(again[1].accuracy, scores[2].accuracy);
  });

  it('rejects labels outside the classes, naming the row', async () => {
    const bad = { ...train, labels: Int32Array.from(train.labels, (l, i) => (i === 7 ? 9 : l)) };
    await assert.rejects(scoreClassifiers(bad, test, { numClasses: classes, seed: 0 }), /label 9 at row 7 is outside 0\.\.3/);
  });

  it('random forest: fits its training set and separates an XOR that no single split can', () => {
    const n = 400;
    const rng = new Rng(4);
    const x = new Float32Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = rng.next() * 2 - 1;
      x[2 * i + 1] = rng.next() * 2 - 1;
      y[i] = (x[2 * i] > 0) !== (x[2 * i + 1] > 0) ? 1 : 0;
    }
    const forest = RandomForest.fit(x, y, n, 2, 2, { seed: 0, trees: 20 });
    const predicted = forest.predict(x, n);
    const accuracy = predicted.reduce((s, p, i) => s + (p === y[i] ? 1 : 0), 0) / n;
    assert.ok(accuracy > 0.95, String(accuracy));
  });
});
