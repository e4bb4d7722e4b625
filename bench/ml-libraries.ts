/**
 * Why the latent classifiers do not use the ml.js packages: times ml-knn, ml-logistic-regression
 * and ml-random-forest against aekit's own implementations (src/eval/metrics) on the pixel
 * baseline, 1,000 MNIST training images of 784 pixels and 200 test images.
 *
 *   npx tsx bench/ml-libraries.ts [knn|logistic|forest|aekit]...   (default: all)
 */
import { Matrix } from 'ml-matrix';
import { loadMnist } from '../src/data';
import { RandomForest } from '../src/eval/metrics/random-forest';
import { scoreClassifiers } from '../src/eval/metrics/latent-classifiers';

// The ml.js packages ship no TypeScript declarations for these classes' options.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const KNN = require('ml-knn') as new (x: number[][], y: number[], o: { k: number }) => { predict(x: number[][]): number[] };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const LogisticRegression = require('ml-logistic-regression') as new (o: { numSteps: number; learningRate: number }) => {
  train(x: Matrix, y: Matrix): void;
  predict(x: Matrix): number[];
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { RandomForestClassifier } = require('ml-random-forest') as {
  RandomForestClassifier: new (o: Record<string, unknown>) => { train(x: number[][], y: number[]): void; predict(x: number[][]): number[] };
};

const TRAIN = 1000;
const TEST = 200;
const D = 784;

async function main(): Promise<void> {
  const which = process.argv.slice(2);
  const run = (name: string) => which.length === 0 || which.includes(name);
  const train = loadMnist('train', { limit: TRAIN });
  const test = loadMnist('test', { limit: TEST });
  const rows = (images: Float32Array, n: number) => Array.from({ length: n }, (_, i) => Array.from(images.subarray(i * D, (i + 1) * D)));
  const xTrain = rows(train.images, TRAIN);
  const xTest = rows(test.images, TEST);
  const yTrain = Array.from(train.labels);
  const accuracy = (p: ArrayLike<number>) => Array.from(p).filter((v, i) => v === test.labels[i]).length / TEST;
  const report = async (name: string, work: () => ArrayLike<number> | Promise<ArrayLike<number>>) => {
    const t0 = performance.now();
    const predicted = await work();
    process.stdout.write(`${name.padEnd(58)} ${((performance.now() - t0) / 1000).toFixed(2).padStart(6)} s  accuracy ${(100 * accuracy(predicted)).toFixed(1)}%\n`);
  };
  process.stdout.write(`${TRAIN} MNIST training images x ${D} pixels, ${TEST} test images\n`);
  if (run('knn')) await report('ml-knn (k = 5)', () => new KNN(xTrain, yTrain, { k: 5 }).predict(xTest));
  if (run('logistic')) {
    await report('ml-logistic-regression (50 steps, lr 5e-3)', () => {
      const model = new LogisticRegression({ numSteps: 50, learningRate: 5e-3 });
      model.train(new Matrix(xTrain), Matrix.columnVector(yTrain));
      return model.predict(new Matrix(xTest));
    });
  }
  if (run('forest')) {
    await report('ml-random-forest (5 trees, depth 30)', () => {
      // noOOB: its out-of-bag pass throws ("input must not be empty") on small forests.
      const forest = new RandomForestClassifier({ nEstimators: 5, seed: 1, maxFeatures: 0.1, replacement: true, noOOB: true, treeOptions: { maxDepth: 30 } });
      forest.train(xTrain, yTrain);
      return forest.predict(xTest);
    });
  }
  if (run('aekit')) {
    await report('aekit RandomForest (100 trees, depth 30)', () => RandomForest.fit(train.images, train.labels, TRAIN, D, 10, { seed: 1 }).predict(test.images, TEST));
    const sets = [
      { features: train.images, labels: train.labels, count: TRAIN, dim: D },
      { features: test.images, labels: test.labels, count: TEST, dim: D },
    ] as const;
    for (const name of ['knn', 'logistic-regression'] as const) {
      let acc = 0;
      const t0 = performance.now();
      acc = (await scoreClassifiers(sets[0], sets[1], { numClasses: 10, seed: 1, classifiers: [name] }))[0].accuracy;
      process.stdout.write(`${`aekit ${name} (tfjs)`.padEnd(58)} ${((performance.now() - t0) / 1000).toFixed(2).padStart(6)} s  accuracy ${(100 * acc).toFixed(1)}%\n`);
    }
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
