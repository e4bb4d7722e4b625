/** A tiny trained and exported model for the latent-tool tests (about two seconds). */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { imageGridPng } from '../../../src/core/image-io';
import { loadMnist } from '../../../src/data';
import { exportRun } from '../../../src/export/run-export';
import { train } from '../../../src/train/trainer';

/** Where the artifacts of {@link trainedEncoder} are. */
export interface Artifacts {
  encoder: string;
  decoder: string;
}

/**
 * Train a 2-D MLP VAE (or the given family) on 1,500 MNIST images for 3 epochs and export its
 * encoder and decoder into `<dir>/<name>/onnx/`.
 */
export async function trainedEncoder(dir: string, name = 'vae2d', model: Record<string, unknown> = { family: 'vae', architecture: 'mlp', hiddenSizes: [64], latentSize: 2 }): Promise<Artifacts> {
  const run = await train({ name, outDir: dir, model, data: { dataset: { name: 'mnist', limit: 1500 } }, train: { epochs: 3, batchSize: 50, backend: 'wasm', seed: 1 } });
  const out = path.join(run.runDir, 'onnx');
  await exportRun(run.runDir, { out, verify: false });
  return { encoder: path.join(out, 'encoder.onnx'), decoder: path.join(out, 'decoder.onnx') };
}

/**
 * Write MNIST test digits as PNG folders `<root>/<digit>/NN.png` (`perClass` each), plus the
 * labels CSV `<root>/labels.csv` with columns file, is_one (1/0) and digit.
 */
export async function digitFolders(root: string, digits: readonly number[], perClass: number): Promise<string> {
  const mnist = loadMnist('test');
  const size = 28 * 28;
  const rows = ['file,is_one,digit'];
  for (const digit of digits) {
    await fs.mkdir(path.join(root, `digit${digit}`), { recursive: true });
    let written = 0;
    for (let i = 0; i < mnist.count && written < perClass; i++) {
      if (mnist.labels[i] !== digit) continue;
      const file = `digit${digit}/${String(written).padStart(2, '0')}.png`;
      await fs.writeFile(path.join(root, file), imageGridPng(mnist.images.subarray(i * size, (i + 1) * size), 1, 28, 28, 1, { padding: 0, scale: 1 }));
      rows.push(`${file},${digit === 1 ? 1 : 0},${digit}`);
      written++;
    }
  }
  await fs.writeFile(path.join(root, 'labels.csv'), rows.join('\n') + '\n');
  return root;
}
