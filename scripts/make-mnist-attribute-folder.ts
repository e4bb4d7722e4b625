/**
 * Writes MNIST test digits as a folder of PNGs with a labels CSV, the layout `aekit latent vector`
 * reads for attribute vectors (run: `npx tsx scripts/make-mnist-attribute-folder.ts OUT [PER_DIGIT]`):
 *
 *   OUT/<digit>/NNNN.png     one folder per digit (groups by folder name: --groups 1,7)
 *   OUT/labels.csv           file,digit,bold
 *
 * `bold` stands in for the faces study's "smiling" attribute, which MNIST lacks: the digit's ink
 * (sum of pixel values) relative to the median ink of its digit class, as a signed z-like score
 * (> 0: bolder than usual for that digit). Comparing within a class keeps the attribute apart from
 * the digit's identity (a 1 has less ink than an 8 however it is written). Only bundled MNIST is
 * read; nothing is downloaded.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { imageGridPng } from '../src/core/image-io';
import { loadMnist } from '../src/data';

const SIZE = 28 * 28;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function main(): void {
  const [out, perDigitText] = process.argv.slice(2);
  if (!out) throw new Error('usage: make-mnist-attribute-folder.ts OUT [PER_DIGIT]');
  const perDigit = Number(perDigitText ?? 200);
  const mnist = loadMnist('test');
  const chosen = new Map<number, number[]>();
  for (let i = 0; i < mnist.count; i++) {
    const rows = chosen.get(mnist.labels[i]) ?? [];
    if (rows.length < perDigit) chosen.set(mnist.labels[i], [...rows, i]);
  }
  fs.rmSync(out, { recursive: true, force: true });
  const lines = ['file,digit,bold'];
  for (const [digit, rows] of [...chosen.entries()].sort((a, b) => a[0] - b[0])) {
    fs.mkdirSync(path.join(out, String(digit)), { recursive: true });
    const ink = rows.map((r) => mnist.images.subarray(r * SIZE, (r + 1) * SIZE).reduce((s, v) => s + v, 0));
    const middle = median(ink);
    rows.forEach((r, k) => {
      const file = `${digit}/${String(k).padStart(4, '0')}.png`;
      fs.writeFileSync(path.join(out, file), imageGridPng(mnist.images.subarray(r * SIZE, (r + 1) * SIZE), 1, 28, 28, 1, { padding: 0, scale: 1 }));
      lines.push(`${file},${digit},${((ink[k] - middle) / middle).toFixed(4)}`);
    });
  }
  fs.writeFileSync(path.join(out, 'labels.csv'), lines.join('\n') + '\n');
  process.stdout.write(`wrote ${lines.length - 1} digits and labels.csv to ${out}\n`);
}

main();
