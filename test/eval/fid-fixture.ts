/**
 * fixtures/fid/ as the tests read it (scripts/make-fid-fixtures.py wrote it: two image folders, the
 * FID PyTorch computes between them with pytorch-fid's pipeline, numpy's view of aekit's .npz), and
 * MNIST digits written as PNG folders.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { loadMnist } from '../../src/data';

export const FID_FIXTURE_DIR = path.resolve(__dirname, '..', '..', 'fixtures', 'fid');

/** The schema of reference.json (the parts the tests read). */
export interface FidFixtureReference {
  fid: number;
  featureSize: number;
  a: { count: number; skipped: number };
  b: { count: number; skipped: number; transparent: number };
  aekitNpzInNumpy: {
    files: string[];
    arrays: Record<string, { dtype: string; shape: number[]; fortranOrder: boolean }>;
    provenance: { count: number; features: boolean; featureSize: number };
    statsMatchFeatures: boolean;
    relativeToReference: number;
  };
}
export const fidReference = JSON.parse(readFileSync(path.join(FID_FIXTURE_DIR, 'reference.json'), 'utf8')) as FidFixtureReference;

/** MNIST test images [start, start + count) as 8-bit PNGs in `dir` (gray, or tinted RGB with `tint`). */
export async function writeMnistPngs(dir: string, start: number, count: number, tint?: [number, number, number]): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const mnist = loadMnist('test', { limit: start + count });
  for (let i = start; i < start + count; i++) {
    const png = new PNG({ width: 28, height: 28 });
    for (let p = 0; p < 784; p++) {
      const v = mnist.images[i * 784 + p];
      const [r, g, b] = tint ?? [1, 1, 1];
      png.data.set([Math.round(v * r * 255), Math.round(v * g * 255), Math.round(v * b * 255), 255], 4 * p);
    }
    await fs.writeFile(path.join(dir, `${String(i).padStart(5, '0')}.png`), PNG.sync.write(png, tint ? {} : { colorType: 0 }));
  }
}

