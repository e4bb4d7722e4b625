/**
 * The browser module's batches: images (NCHW float32 in the artifact's value range), rows of
 * latents and one-hot labels, checked against the artifact's facts with errors that say what was
 * expected.
 */
import type { LabelInfo } from '../../artifact/info';
import type { ImageShape } from '../../artifact/metadata';
import type { ValueRange } from '../../data/types';

/** A batch of images: NCHW float32 in the artifact's value range. */
export interface ImageBatch {
  data: Float32Array;
  shape: [number, number, number, number];
  valueRange: ValueRange;
}

/** Labels for a conditional model: one class for every row, or one per row. */
export interface LabelOption {
  label?: number | number[];
}

/** The index of the first value that is not finite, or -1. */
function firstNonFinite(values: Float32Array): number {
  return values.findIndex((v) => !Number.isFinite(v));
}

/** Rows of latents as one flat Float32Array, checked against the latent size. */
export function latentRows(z: number[] | number[][] | Float32Array, latentSize: number): Float32Array {
  let flat: Float32Array;
  if (z instanceof Float32Array) {
    flat = z;
  } else if (Array.isArray(z) && z.length > 0 && Array.isArray(z[0])) {
    const rows = z as number[][];
    flat = new Float32Array(rows.length * latentSize);
    rows.forEach((row, r) => {
      if (!Array.isArray(row) || row.length !== latentSize) throw new Error(`aekit-web: z[${r}] has ${Array.isArray(row) ? row.length : 'no'} values, expected ${latentSize} (the latent size)`);
      flat.set(row, r * latentSize);
    });
  } else {
    flat = Float32Array.from(z as number[]);
  }
  if (flat.length === 0 || flat.length % latentSize !== 0) throw new Error(`aekit-web: z has ${flat.length} values, expected a multiple of ${latentSize} (the latent size)`);
  const bad = firstNonFinite(flat);
  if (bad >= 0) throw new Error(`aekit-web: z value ${bad} is ${flat[bad]}, expected a finite number`);
  return flat;
}

/** Rows of images (a batch or flat NCHW values) checked against the image shape; returns the values and the row count. */
export function imageRows(images: ImageBatch | Float32Array, shape: ImageShape, valueRange: ValueRange): { data: Float32Array; rows: number } {
  const perImage = shape.channels * shape.height * shape.width;
  const expected = `${shape.channels}x${shape.height}x${shape.width}`;
  let data: Float32Array;
  if (images instanceof Float32Array) {
    data = images;
  } else {
    const [, c, h, w] = images.shape;
    if (c !== shape.channels || h !== shape.height || w !== shape.width) throw new Error(`aekit-web: images are ${c}x${h}x${w}, expected ${expected} (the model's image shape)`);
    if (images.valueRange !== valueRange) throw new Error(`aekit-web: images are in the '${images.valueRange}' value range, expected '${valueRange}' (the model's)`);
    data = images.data;
  }
  if (data.length === 0 || data.length % perImage !== 0) throw new Error(`aekit-web: images have ${data.length} values, expected a multiple of ${perImage} (${expected}, NCHW)`);
  const bad = firstNonFinite(data);
  if (bad >= 0) throw new Error(`aekit-web: image value ${bad} is ${data[bad]}, expected a finite number`);
  return { data, rows: data.length / perImage };
}

/** One-hot rows for `label` (one class for every row, or one per row). */
export function oneHotLabels(label: LabelOption['label'], rows: number, numClasses: number): Float32Array {
  if (label === undefined) throw new Error(`aekit-web: this model is conditional: pass { label } (0 .. ${numClasses - 1})`);
  const labels = Array.isArray(label) ? label : new Array<number>(rows).fill(label);
  if (labels.length !== rows) throw new Error(`aekit-web: ${labels.length} labels for ${rows} rows`);
  const out = new Float32Array(rows * numClasses);
  labels.forEach((l, r) => {
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) throw new Error(`aekit-web: label ${l} is outside 0 .. ${numClasses - 1}`);
    out[r * numClasses + l] = 1;
  });
  return out;
}

/**
 * The label feed of one run: the one-hot rows for a conditional artifact's label input, nothing
 * for an unconditional one, and an error when a label is given to a model that takes none.
 */
export function labelFeed(label: LabelInfo | undefined, option: LabelOption['label'], rows: number, part: 'decoder' | 'encoder'): { input: string; data: Float32Array; dims: number[] } | undefined {
  if (!label) {
    if (option !== undefined) throw new Error(`aekit-web: this ${part} is not conditional; leave out label`);
    return undefined;
  }
  return { input: label.input, data: oneHotLabels(option, rows, label.numClasses), dims: [rows, label.numClasses] };
}
