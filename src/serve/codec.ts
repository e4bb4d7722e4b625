/**
 * The wire formats of the API: request bodies checked against the model row by row after their
 * schema (src/serve/requests.ts) checked their structure (every mistake becomes a 400 naming the
 * field, what was expected and what came), and the image encodings of answers (JSON float rows,
 * PNG). Content negotiation is negotiation.ts's.
 */
import { imageGridPng } from '../core/image-io';
import { badField, HttpError } from './http-error';
import type { LatentModel, ServedModel } from './models';
import { checkBody, classOutside, decodeWords, DecodeRequestSchema, describe, ImagesRequestSchema, imagesWords, notFinite, SampleRequestSchema, sampleWords } from './requests';
import { toUnitInterval } from './web/image-math';
import { VALUE_RANGES } from '../data/types';

/** Per-request limits. */
export interface RequestLimits {
  /** Most rows (latents, images, samples) one request may ask for. */
  maxRowsPerRequest: number;
}

/**
 * Slack when checking that input pixels lie in the model's value range: values computed in
 * float32 by a client (e.g. x / 255) can land a rounding error outside [0, 1].
 */
export const VALUE_RANGE_SLACK = 1e-6;

/** Rows of a request, flat and row-major, plus one-hot labels for conditional models. */
export interface RowsInput {
  rows: number;
  data: Float32Array;
  labels?: Float32Array;
}

/**
 * Largest float32 magnitude. The models take float32: a JSON number beyond it is finite in the
 * body but Infinity in the model's input.
 */
const FLOAT32_MAX = 3.4028234663852886e38;

/** @param hint - said after the limit, e.g. when the count suggests a forgotten outer list */
function checkRows(rows: number, where: string, limits: RequestLimits, hint = ''): void {
  if (rows > limits.maxRowsPerRequest) throw badField('TOO_MANY_ROWS', where, `${rows} rows, the limit per request is ${limits.maxRowsPerRequest} (--max-rows)${hint}`);
}

function finite(value: unknown, where: string): number {
  if (typeof value !== 'number') throw badField('INVALID_BODY', where, `expected a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) throw notFinite(where, value);
  return value;
}

/** One-hot labels from `label` (one class for all rows, or one per row; whole numbers >= 0, as the schema checked), or an error. */
function parseLabels(value: number | number[] | undefined, rows: number, model: ServedModel): Float32Array | undefined {
  if (!model.conditional) {
    if (value !== undefined) throw badField('BAD_LABEL', 'label', `model '${model.name}' is not conditional; leave out 'label'`);
    return undefined;
  }
  const classes = model.numClasses!;
  if (value === undefined) throw badField('BAD_LABEL', 'label', `model '${model.name}' is conditional: give a class in 0..${classes - 1} (one number for all rows, or one per row)`);
  const labels = Array.isArray(value) ? value : new Array<number>(rows).fill(value);
  if (labels.length !== rows) throw badField('BAD_LABEL', 'label', `${labels.length} labels for ${rows} rows; give one per row or a single number`);
  const out = new Float32Array(rows * classes);
  labels.forEach((label, r) => {
    if (label >= classes) throw badField('BAD_LABEL', Array.isArray(value) ? `label[${r}]` : 'label', classOutside(label, model));
    out[r * classes + label] = 1;
  });
  return out;
}

/** `{"z": number[][], "label"?: number | number[]}` for `/decode` ({@link DecodeRequestSchema}), checked against the model. */
export function parseDecodeBody(body: unknown, model: LatentModel, limits: RequestLimits): RowsInput {
  const { z, label } = checkBody(DecodeRequestSchema, body, decodeWords, model);
  const size = model.latentSize;
  checkRows(z.length, 'z', limits);
  const data = new Float32Array(z.length * size);
  z.forEach((row, r) => {
    if (row.length !== size) throw badField('WRONG_SIZE', `z[${r}]`, `has ${row.length} numbers; model '${model.name}' has latent size ${size}`);
    data.set(row, r * size);
  });
  const overflow = firstNonFinite(data);
  if (overflow >= 0) {
    const [r, i] = [Math.floor(overflow / size), overflow % size];
    throw badField('NOT_FINITE', `z[${r}][${i}]`, `${z[r][i]} overflows float32, the model's input type (largest magnitude ${FLOAT32_MAX.toPrecision(8)}); latents lie within a few units of 0`);
  }
  return { rows: z.length, data, labels: parseLabels(label, z.length, model) };
}

/** A sample request: how many, the seed used (given or drawn), and labels. */
export interface SampleInput {
  rows: number;
  seed: number;
  labels?: Float32Array;
}

/** `{"n": number, "seed"?: number, "label"?: number | number[]}` for `/sample` ({@link SampleRequestSchema}). */
export function parseSampleBody(body: unknown, model: ServedModel, limits: RequestLimits, randomSeed: () => number): SampleInput {
  const { n, seed, label } = checkBody(SampleRequestSchema, body, sampleWords, model);
  checkRows(n, 'n', limits);
  return { rows: n, seed: seed ?? randomSeed(), labels: parseLabels(label, n, model) };
}

/**
 * `{"images": [...], "label"?: ...}` for `/encode`, `/reconstruct` and `/classify` ({@link ImagesRequestSchema}).
 * Each image is a flat list of channels*height*width numbers (CHW order) or nested
 * [channels][height][width] (or [height][width] for one channel), with values in the model's value
 * range: checked here, value by value, while copying.
 */
export function parseImagesBody(body: unknown, model: ServedModel, limits: RequestLimits): RowsInput {
  const { images, label } = checkBody(ImagesRequestSchema, body, imagesWords, model);
  const { channels, height, width } = model.imageShape;
  const size = channels * height * width;
  const shape = `${channels}x${height}x${width}`;
  // One image sent without the outer list looks like `height` (or `channels`) rows.
  const oneImage = (count: number) => (count === height || count === channels ? `; if this is one ${shape} image, wrap it in a list: {"images": [image]}` : '');
  checkRows(images.length, 'images', limits, oneImage(images.length));
  const [lo, hi] = VALUE_RANGES[model.valueRange];
  const data = new Float32Array(images.length * size);
  images.forEach((image, r) => {
    const where = `images[${r}]`;
    const flat = flattenImage(image, where, [channels, height, width]);
    if (flat.length !== size) throw badField('WRONG_SIZE', where, `has ${flat.length} values; model '${model.name}' takes ${shape} = ${size} (flat CHW or nested)${oneImage(images.length)}`);
    for (let i = 0; i < size; i++) {
      const v = finite(flat[i], `${where}[${i}]`);
      if (v < lo - VALUE_RANGE_SLACK || v > hi + VALUE_RANGE_SLACK) {
        throw badField('OUT_OF_RANGE', `${where}[${i}]`, `${v} is outside the model's value range [${lo}, ${hi}] ('${model.valueRange}')${v > 1 && hi === 1 ? '; scale 0-255 pixels to [0, 1]' : ''}`);
      }
      data[r * size + i] = v;
    }
  });
  return { rows: images.length, data, labels: parseLabels(label, images.length, model) };
}

/** A flat list of an image's values: given flat, or nested as [C][H][W] (or [H][W] when C = 1). */
function flattenImage(image: unknown[], where: string, chw: [number, number, number]): unknown[] {
  if (image.length === 0 || !Array.isArray(image[0])) return image;
  const expected = chw[0] === 1 && !Array.isArray((image[0] as unknown[])[0]) ? chw.slice(1) : chw;
  const out: unknown[] = [];
  const walk = (value: unknown, depth: number, path: string): void => {
    if (depth === expected.length) {
      out.push(value);
      return;
    }
    if (!Array.isArray(value) || value.length !== expected[depth]) {
      throw badField('WRONG_SIZE', path, `expected ${expected.length - depth > 1 ? 'a list' : 'a row'} of ${expected[depth]} (image shape [${expected.join(', ')}]), got ${describe(value)}`);
    }
    value.forEach((v, i) => walk(v, depth + 1, `${path}[${i}]`));
  };
  walk(image, 0, where);
  return out;
}

/** `[[...],[...]]` for `rows` rows of flat data (join is ~4x faster than JSON.stringify of arrays). */
export function rowsJson(data: Float32Array, rows: number): string {
  const size = data.length / rows;
  let out = '[';
  for (let r = 0; r < rows; r++) out += (r === 0 ? '[' : ',[') + data.subarray(r * size, (r + 1) * size).join(',') + ']';
  return out + ']';
}

/** Index of the first non-finite value, or -1 (a model producing NaN is a server fault, and JSON cannot carry it). */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** NCHW images as a PNG: the image itself when there is one, else a grid (2-pixel gaps around and between). */
export function imagesPng(data: Float32Array, model: ServedModel, rows: number): Buffer {
  const { channels, height, width } = model.imageShape;
  const plane = height * width;
  const nhwc = new Float32Array(data.length);
  for (let n = 0; n < rows; n++) {
    for (let c = 0; c < channels; c++) {
      for (let p = 0; p < plane; p++) nhwc[(n * plane + p) * channels + c] = toUnitInterval(data[(n * channels + c) * plane + p], model.valueRange);
    }
  }
  return imageGridPng(nhwc, rows, height, width, channels, { scale: 1, padding: rows === 1 ? 0 : 2 });
}
