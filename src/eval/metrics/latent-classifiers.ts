/**
 * Classifiers trained on features (latent codes or raw pixels) and scored on held-out rows: how
 * much class information a representation keeps, in the accuracy of four standard classifiers.
 *
 * Libraries: logistic regression, the MLP and k-NN run on TensorFlow.js (already aekit's training
 * engine, maintained, with a wasm backend that is fast on 784-pixel rows); the random forest is
 * ./random-forest.ts. The ml.js packages (in package.json) were measured first and are too slow
 * for the pixel baseline on this 2-core machine (1,000 MNIST training rows of 784 pixels, 200 test
 * rows, measured 2026-11-23 with bench/ml-libraries.ts): ml-logistic-regression, one-vs-rest
 * batch gradient descent, took 9.2 s for 50 steps (83.5%, still underfitting; it needs hundreds)
 * against 1.5 s (88.5%) for the tfjs softmax regression here; ml-knn's k-d tree visits every node
 * in 784 dimensions: 6.0 s for 200 queries (86%), against 0.8 s (87%) for one tfjs matrix
 * product per chunk here. On 16-d codes ml-knn is fast (0.09 s), but one implementation for codes and
 * pixels keeps the two columns of the report comparable. ml.js has no maintained MLP.
 */
import { AekitError } from '../../core/errors';
import { Rng } from '../../core/rng';
import { tf, useBackend } from '../../core/tfjs-backend';
import { RandomForest } from './random-forest';

/** The classifiers, in report order. */
export const LATENT_CLASSIFIERS = ['logistic-regression', 'mlp', 'knn', 'random-forest'] as const;
/** See {@link LATENT_CLASSIFIERS}. */
export type LatentClassifierName = (typeof LATENT_CLASSIFIERS)[number];

/** Rows of features with class labels. */
export interface LabelledFeatures {
  /** count×dim, row-major. */
  features: Float32Array;
  /** Class index per row (0..numClasses-1). */
  labels: Int32Array;
  count: number;
  dim: number;
}

/** Test accuracy of one classifier. */
export interface ClassifierScore {
  classifier: LatentClassifierName;
  /** Fraction of test rows classified correctly. */
  accuracy: number;
  /** Training plus prediction time. */
  seconds: number;
}

/**
 * Gradient-trained settings. Logistic regression is multinomial (softmax) with a small L2 penalty,
 * like scikit-learn's default `LogisticRegression`; the MLP has scikit-learn `MLPClassifier`'s
 * shape (one ReLU layer of 100, Adam at 1e-3, L2 1e-4) with a fixed epoch budget. Epochs were
 * chosen on 2,000 MNIST rows, where both reach their plateau (~88% and ~92% on pixels).
 */
export const DENSE_CLASSIFIER_SETTINGS = Object.freeze({
  'logistic-regression': { hidden: [] as number[], epochs: 30, batchSize: 200, learningRate: 1e-2, l2: 5e-4 },
  mlp: { hidden: [100], epochs: 20, batchSize: 100, learningRate: 1e-3, l2: 1e-4 },
});

/** Neighbours voting in k-NN (scikit-learn's default `n_neighbors`). */
export const KNN_NEIGHBOURS = 5;

/** Test rows per distance-matrix chunk in k-NN (bounds memory at chunk × training rows floats). */
const KNN_CHUNK = 512;

/** Options of {@link scoreClassifiers}. */
export interface ScoreClassifiersOptions {
  numClasses: number;
  seed: number;
  /** Which classifiers (default all, {@link LATENT_CLASSIFIERS}). */
  classifiers?: readonly LatentClassifierName[];
}

/**
 * Train each classifier on `train` and return its accuracy on `test`. Logistic regression and the
 * MLP see features standardised with the training mean and deviation (gradient descent needs it);
 * k-NN and the forest see them as they are (the forest is scale-free; k-NN on raw pixels is the
 * usual baseline). Seeded: the same seed gives the same accuracies.
 *
 * @throws AekitError BAD_ARGUMENT for inconsistent sizes or labels out of range.
 */
export async function scoreClassifiers(train: LabelledFeatures, test: LabelledFeatures, options: ScoreClassifiersOptions): Promise<ClassifierScore[]> {
  checkSet(train, 'train', options.numClasses);
  checkSet(test, 'test', options.numClasses);
  if (train.dim !== test.dim) throw new AekitError('BAD_ARGUMENT', `train rows have ${train.dim} features, test rows ${test.dim}`, { where: 'scoreClassifiers' });
  await useBackend('auto');
  const scores: ClassifierScore[] = [];
  for (const name of options.classifiers ?? LATENT_CLASSIFIERS) {
    const started = performance.now();
    const predicted = await predict(name, train, test, options);
    let correct = 0;
    for (let i = 0; i < test.count; i++) if (predicted[i] === test.labels[i]) correct++;
    scores.push({ classifier: name, accuracy: correct / test.count, seconds: (performance.now() - started) / 1000 });
  }
  return scores;
}

async function predict(name: LatentClassifierName, train: LabelledFeatures, test: LabelledFeatures, options: ScoreClassifiersOptions): Promise<Int32Array> {
  switch (name) {
    case 'logistic-regression':
    case 'mlp':
      return denseClassifier(train, test, options.numClasses, DENSE_CLASSIFIER_SETTINGS[name], Rng.derive(options.seed, 'latent-classifiers', name));
    case 'knn':
      return knn(train, test, KNN_NEIGHBOURS, options.numClasses);
    case 'random-forest':
      return RandomForest.fit(train.features, train.labels, train.count, train.dim, options.numClasses, { seed: options.seed }).predict(test.features, test.count);
  }
}

function checkSet(set: LabelledFeatures, name: string, numClasses: number): void {
  if (set.count < 1 || set.dim < 1 || set.features.length !== set.count * set.dim || set.labels.length < set.count) {
    throw new AekitError('BAD_ARGUMENT', `expected ${set.count}x${set.dim} features and ${set.count} labels, found ${set.features.length} and ${set.labels.length}`, {
      where: `scoreClassifiers(${name})`,
    });
  }
  for (let i = 0; i < set.count; i++) {
    if (set.labels[i] < 0 || set.labels[i] >= numClasses) {
      throw new AekitError('BAD_ARGUMENT', `label ${set.labels[i]} at row ${i} is outside 0..${numClasses - 1}`, { where: `scoreClassifiers(${name})` });
    }
  }
}

/** Standardise both sets with the training mean and deviation (constant features become 0). */
function standardise(train: LabelledFeatures, test: LabelledFeatures): [Float32Array, Float32Array] {
  const d = train.dim;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let r = 0; r < train.count; r++) {
    for (let j = 0; j < d; j++) {
      const v = train.features[r * d + j];
      mean[j] += v;
      sq[j] += v * v;
    }
  }
  const scale = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    mean[j] /= train.count;
    const sd = Math.sqrt(Math.max(sq[j] / train.count - mean[j] * mean[j], 0));
    scale[j] = sd > 1e-8 ? 1 / sd : 0;
  }
  const apply = (set: LabelledFeatures) => set.features.map((v, i) => (v - mean[i % d]) * scale[i % d]);
  return [apply(train), apply(test)];
}

/** Softmax regression (no hidden layer) or an MLP, trained with Adam on shuffled mini-batches. */
async function denseClassifier(
  train: LabelledFeatures,
  test: LabelledFeatures,
  numClasses: number,
  settings: { hidden: number[]; epochs: number; batchSize: number; learningRate: number; l2: number },
  rng: Rng,
): Promise<Int32Array> {
  const [xTrain, xTest] = standardise(train, test);
  const d = train.dim;
  const model = tf.sequential();
  let inputs = d;
  settings.hidden.forEach((units) => {
    model.add(tf.layers.dense({ inputShape: [inputs], units, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: rng.seed() }) }));
    inputs = units;
  });
  model.add(tf.layers.dense({ inputShape: [inputs], units: numClasses, kernelInitializer: tf.initializers.glorotUniform({ seed: rng.seed() }) }));
  const optimizer = tf.train.adam(settings.learningRate);
  const kernels = () => model.layers.map((l) => l.getWeights()[0]);
  const batchX = new Float32Array(settings.batchSize * d);
  const batchY = new Int32Array(settings.batchSize);
  try {
    for (let epoch = 0; epoch < settings.epochs; epoch++) {
      const order = rng.permutation(train.count);
      for (let start = 0; start < train.count; start += settings.batchSize) {
        const size = Math.min(settings.batchSize, train.count - start);
        for (let i = 0; i < size; i++) {
          const r = order[start + i];
          batchX.set(xTrain.subarray(r * d, (r + 1) * d), i * d);
          batchY[i] = train.labels[r];
        }
        tf.tidy(() => {
          const x = tf.tensor2d(batchX.subarray(0, size * d), [size, d]);
          const y = tf.oneHot(tf.tensor1d(batchY.subarray(0, size), 'int32'), numClasses);
          optimizer.minimize(() => {
            const logits = model.apply(x) as tf.Tensor2D;
            const loss = tf.losses.softmaxCrossEntropy(y, logits);
            const penalty = kernels().reduce((sum, w) => tf.add(sum, tf.sum(tf.square(w))), tf.scalar(0));
            return tf.add(loss, tf.mul(settings.l2 / 2, penalty)) as tf.Scalar;
          });
        });
      }
    }
    const predicted = tf.tidy(() => tf.argMax(model.predict(tf.tensor2d(xTest, [test.count, d])) as tf.Tensor2D, 1));
    const out = Int32Array.from(await predicted.data());
    predicted.dispose();
    return out;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * Brute-force k-NN with Euclidean distance: squared distances from one matrix product per chunk
 * of test rows, the k nearest by `topk`, a majority vote (ties: see below).
 */
async function knn(train: LabelledFeatures, test: LabelledFeatures, k: number, numClasses: number): Promise<Int32Array> {
  const neighbours = Math.min(k, train.count);
  const xTrain = tf.tensor2d(train.features, [train.count, train.dim]);
  // ||q - x||^2 = ||q||^2 - 2 q.x + ||x||^2; ||q||^2 is the same for every x, so it is left out.
  const trainNorms = tf.sum(tf.square(xTrain), 1);
  const out = new Int32Array(test.count);
  try {
    for (let start = 0; start < test.count; start += KNN_CHUNK) {
      const size = Math.min(KNN_CHUNK, test.count - start);
      const indices = tf.tidy(() => {
        const q = tf.tensor2d(test.features.subarray(start * train.dim, (start + size) * train.dim), [size, train.dim]);
        const distances = tf.sub(trainNorms, tf.mul(2, tf.matMul(q, xTrain, false, true)));
        return tf.topk(tf.neg(distances), neighbours).indices;
      });
      const nearest = await indices.data();
      indices.dispose();
      const votes = new Int32Array(numClasses);
      for (let i = 0; i < size; i++) {
        votes.fill(0);
        let best = -1;
        for (let j = 0; j < neighbours; j++) {
          const label = train.labels[nearest[i * neighbours + j]];
          votes[label]++;
          // Strictly more votes wins: a tie goes to the class that reached the count with nearer neighbours.
          if (best < 0 || votes[label] > votes[best]) best = label;
        }
        out[start + i] = best;
      }
    }
    return out;
  } finally {
    xTrain.dispose();
    trainNorms.dispose();
  }
}
