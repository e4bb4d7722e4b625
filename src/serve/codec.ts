/**
 * The wire formats of the API: request bodies checked field by field (every mistake becomes a 400
 * naming the field, what was expected and what came), content negotiation, and the three image
 * encodings (JSON float arrays, raw float32, PNG).
 */
import { imageGridPng } from '../core/image-io';
import { badField, HttpError } from './http-error';
import type { ServedModel } from './models';
import { toUnitInterval } from './web/image-math';
import { MAX_SEED } from '../artifact/prior';
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

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}...` : value)}`;
  if (typeof value === 'number') return String(value);
  return typeof value;
}

/** The body as an object with only `allowed` fields (`label` is always allowed, so that its own check can say why it is wrong). */
function objectBody(body: unknown, allowed: readonly string[], example: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'INVALID_BODY', `expected a JSON object like ${example}, got ${describe(body)}`);
  }
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw badField('INVALID_BODY', key, `unknown field; expected: ${allowed.join(', ')}`);
  }
  return body as Record<string, unknown>;
}

function checkRows(rows: number, where: string, limits: RequestLimits): void {
  if (rows === 0) throw badField('INVALID_BODY', where, 'is empty; give at least one row');
  if (rows > limits.maxRowsPerRequest) throw badField('TOO_MANY_ROWS', where, `${rows} rows, the limit per request is ${limits.maxRowsPerRequest}`);
}

function finite(value: unknown, where: string): number {
  if (typeof value !== 'number') throw badField('INVALID_BODY', where, `expected a number, got ${describe(value)}`);
  // JSON has no NaN/Infinity literals, but numbers beyond ~1.8e308 parse to Infinity.
  if (!Number.isFinite(value)) throw badField('NOT_FINITE', where, `expected a finite number, got ${value} (the JSON number overflows float64)`);
  return value;
}

/** One-hot labels from `label` (one class for all rows, or one per row), or an error. */
function parseLabels(value: unknown, rows: number, model: ServedModel): Float32Array | undefined {
  if (!model.conditional) {
    if (value !== undefined) throw badField('BAD_LABEL', 'label', `model '${model.name}' is not conditional; leave out 'label'`);
    return undefined;
  }
  const classes = model.numClasses!;
  if (value === undefined) throw badField('BAD_LABEL', 'label', `model '${model.name}' is conditional: give a class in 0..${classes - 1} (one number for all rows, or one per row)`);
  const labels = Array.isArray(value) ? value : new Array<unknown>(rows).fill(value);
  if (labels.length !== rows) throw badField('BAD_LABEL', 'label', `${labels.length} labels for ${rows} rows; give one per row or a single number`);
  const out = new Float32Array(rows * classes);
  labels.forEach((label, r) => {
    const where = Array.isArray(value) ? `label[${r}]` : 'label';
    if (typeof label !== 'number' || !Number.isInteger(label)) throw badField('BAD_LABEL', where, `expected a whole class number, got ${describe(label)}`);
    if (label < 0 || label >= classes) throw badField('BAD_LABEL', where, `class ${label} is outside 0..${classes - 1} (model '${model.name}' has ${classes} classes)`);
    out[r * classes + label] = 1;
  });
  return out;
}

/** `{"z": number[][], "label"?: number | number[]}` for `/decode`. */
export function parseDecodeBody(body: unknown, model: ServedModel, limits: RequestLimits): RowsInput {
  const size = model.latentSize;
  const fields = objectBody(body, ['z', 'label'], `{"z": [[${size} numbers]]${model.conditional ? ', "label": 3' : ''}}`);
  const z = fields.z;
  if (z === undefined) throw badField('INVALID_BODY', 'z', `missing; expected a list of latent rows of ${size} numbers`);
  if (!Array.isArray(z)) throw badField('INVALID_BODY', 'z', `expected a list of rows (number[][]), got ${describe(z)}`);
  checkRows(z.length, 'z', limits);
  const data = new Float32Array(z.length * size);
  z.forEach((row: unknown, r) => {
    if (!Array.isArray(row)) throw badField('INVALID_BODY', `z[${r}]`, `expected a row of ${size} numbers, got ${describe(row)}${typeof row === 'number' ? ' (z is a list of rows: [[...]])' : ''}`);
    if (row.length !== size) throw badField('WRONG_SIZE', `z[${r}]`, `has ${row.length} numbers; model '${model.name}' has latent size ${size}`);
    for (let i = 0; i < size; i++) data[r * size + i] = finite(row[i], `z[${r}][${i}]`);
  });
  return { rows: z.length, data, labels: parseLabels(fields.label, z.length, model) };
}

/** A sample request: how many, the seed used (given or drawn), and labels. */
export interface SampleInput {
  rows: number;
  seed: number;
  labels?: Float32Array;
}

/** `{"n": number, "seed"?: number, "label"?: number | number[]}` for `/sample`. */
export function parseSampleBody(body: unknown, model: ServedModel, limits: RequestLimits, randomSeed: () => number): SampleInput {
  const fields = objectBody(body, ['n', 'seed', 'label'], `{"n": 4, "seed": 0${model.conditional ? ', "label": 3' : ''}}`);
  const n = fields.n;
  if (n === undefined) throw badField('INVALID_BODY', 'n', 'missing; expected how many images to sample');
  if (typeof n !== 'number' || !Number.isInteger(n)) throw badField('INVALID_BODY', 'n', `expected a whole number, got ${describe(n)}`);
  if (n < 1) throw badField('INVALID_BODY', 'n', `expected at least 1, got ${n}`);
  checkRows(n, 'n', limits);
  let seed = randomSeed();
  if (fields.seed !== undefined) {
    const s = fields.seed;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > MAX_SEED) throw badField('INVALID_BODY', 'seed', `expected a whole number in 0..${MAX_SEED}, got ${describe(s)}`);
    seed = s;
  }
  return { rows: n, seed, labels: parseLabels(fields.label, n, model) };
}

/**
 * `{"images": [...], "label"?: ...}` for `/encode` and `/reconstruct`. Each image is a flat list
 * of channels*height*width numbers (CHW order) or nested [channels][height][width] (or
 * [height][width] for one channel), with values in the model's value range.
 */
export function parseImagesBody(body: unknown, model: ServedModel, limits: RequestLimits): RowsInput {
  const { channels, height, width } = model.imageShape;
  const size = channels * height * width;
  const shapeText = `${channels}x${height}x${width}`;
  const fields = objectBody(body, ['images', 'label'], `{"images": [[${size} numbers]]${model.conditional ? ', "label": 3' : ''}}`);
  const images = fields.images;
  if (images === undefined) throw badField('INVALID_BODY', 'images', `missing; expected a list of ${shapeText} images`);
  if (!Array.isArray(images)) throw badField('INVALID_BODY', 'images', `expected a list of images, got ${describe(images)}`);
  checkRows(images.length, 'images', limits);
  const [lo, hi] = VALUE_RANGES[model.valueRange];
  const data = new Float32Array(images.length * size);
  images.forEach((image: unknown, r) => {
    const where = `images[${r}]`;
    const flat = flattenImage(image, where, [channels, height, width]);
    if (flat.length !== size) throw badField('WRONG_SIZE', where, `has ${flat.length} values; model '${model.name}' takes ${shapeText} = ${size} (flat CHW or nested)`);
    for (let i = 0; i < size; i++) {
      const v = finite(flat[i], `${where}[${i}]`);
      if (v < lo - VALUE_RANGE_SLACK || v > hi + VALUE_RANGE_SLACK) {
        throw badField('OUT_OF_RANGE', `${where}[${i}]`, `${v} is outside the model's value range [${lo}, ${hi}] ('${model.valueRange}')${v > 1 && hi === 1 ? '; scale 0-255 pixels to [0, 1]' : ''}`);
      }
      data[r * size + i] = v;
    }
  });
  return { rows: images.length, data, labels: parseLabels(fields.label, images.length, model) };
}

/** A flat list of an image's values: given flat, or nested as [C][H][W] (or [H][W] when C = 1). */
function flattenImage(image: unknown, where: string, chw: [number, number, number]): unknown[] {
  if (!Array.isArray(image)) throw badField('INVALID_BODY', where, `expected an image (a list of numbers or nested lists), got ${describe(image)}`);
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

/** Response encodings of images (and latents). */
export type ResponseFormat = 'json' | 'octet' | 'png';

/** Media type of each {@link ResponseFormat}. */
export const MEDIA_TYPES: Readonly<Record<ResponseFormat, string>> = Object.freeze({
  json: 'application/json',
  octet: 'application/octet-stream',
  png: 'image/png',
});

/**
 * The first format in the Accept header (in the client's order, q=0 excluded) that the endpoint
 * offers; JSON for no header or wildcards.
 *
 * @throws HttpError 406 listing the offered media types.
 */
export function negotiate(accept: string | undefined, offered: readonly ResponseFormat[]): ResponseFormat {
  if (!accept) return 'json';
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    if (params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p))) continue;
    if (type === '*/*' || type === 'application/*' || type === 'application/json') return 'json';
    const match = offered.find((f) => MEDIA_TYPES[f] === type || (type === 'image/*' && f === 'png'));
    if (match) return match;
  }
  throw new HttpError(406, 'NOT_ACCEPTABLE', `cannot answer with '${accept}'; this endpoint returns: ${offered.map((f) => MEDIA_TYPES[f]).join(', ')}`);
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
