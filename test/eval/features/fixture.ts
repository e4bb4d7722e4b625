/**
 * fixtures/metrics/inception/ as the tests read it: the reduced Inception networks, the images and
 * the features and FID PyTorch computed for them (scripts/make-inception-fixture.py).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const INCEPTION_FIXTURE_DIR = path.resolve(__dirname, '..', '..', '..', 'fixtures', 'metrics', 'inception');

/** The reduced Inception with aekit metadata (299x299 input in [-1, 1], bilinear resize declared). */
export const REDUCED_INCEPTION = path.join(INCEPTION_FIXTURE_DIR, 'reduced-inception.onnx');
/** The same weights behind pytorch-fid's own resize and normalisation: any size in [0, 1], no metadata. */
export const REDUCED_INCEPTION_RESIZE = path.join(INCEPTION_FIXTURE_DIR, 'reduced-inception-resize.onnx');

/** The schema of reference.json (the parts the tests read). */
export interface InceptionReference {
  network: { featureSize: number };
  features: { float32VsFloat64: { value: number } };
  rgb64: { images: string; count: number; height: number; width: number; channels: number; features: string; featuresFloat64: string };
  mnist: { features: string; featuresFloat64: string; featureRows: number; fid: { count: number; value: number } };
  resize: { file: string; cases: { shape: [number, number, number, number]; size: [number, number] }[] };
}

export const inceptionReference = JSON.parse(readFileSync(path.join(INCEPTION_FIXTURE_DIR, 'reference.json'), 'utf8')) as InceptionReference;

/** A little-endian float32 file of the fixture. */
export function fixtureF32(name: string): Float32Array {
  const bytes = readFileSync(path.join(INCEPTION_FIXTURE_DIR, name));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The RGB fixture images, NHWC in [0, 1] (uint8 / 255, as PyTorch read them). */
export function rgbImages(): Float32Array {
  return Float32Array.from(readFileSync(path.join(INCEPTION_FIXTURE_DIR, inceptionReference.rgb64.images)), (v) => v / 255);
}

/** The largest per-row ||a - b|| / ||b|| of two row-major sets of `d`-vectors. */
export function worstRelativeL2(a: Float32Array, b: Float32Array, d: number): number {
  let worst = 0;
  for (let r = 0; r < b.length / d; r++) {
    let diff = 0;
    let norm = 0;
    for (let j = r * d; j < (r + 1) * d; j++) {
      diff += (a[j] - b[j]) ** 2;
      norm += b[j] ** 2;
    }
    worst = Math.max(worst, Math.sqrt(diff / norm));
  }
  return worst;
}

/** The largest elementwise |a - b| / |b|. */
export function worstRelative(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  return worst;
}
