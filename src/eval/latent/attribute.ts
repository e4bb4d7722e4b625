/**
 * Latent attribute vectors (the faces study's "smile vector"): the mean code of the images that
 * have an attribute minus the mean code of those that do not, added with a chosen strength to the
 * codes of other images and decoded. Groups come from folder names (`smiling/`, `sad/`) or from a
 * labels CSV (one row per file, one column per attribute).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../../core/errors';
import type { LatentModel } from './artifacts';
import type { LatentImages } from './images';

/** A saved attribute vector (`aekit latent vector` writes it as JSON). */
export interface AttributeVector {
  format: 'aekit-latent-vector';
  version: 1;
  /** What the vector adds, e.g. 'smiling - sad'. */
  name: string;
  latentSize: number;
  /** meanA - meanB. */
  vector: number[];
  meanA: number[];
  meanB: number[];
  /** Images in each group. */
  counts: { a: number; b: number };
  /** The encoder the codes came from (vectors only make sense with that encoder's decoder). */
  encoder: { file: string; runId: string };
}

/** How the two groups are told apart. */
export type GroupRule =
  /** By class (folder) name: images whose class is `a` (or lies under folder `a`) vs `b`. */
  | { kind: 'folders'; a: string; b: string }
  /**
   * By a labels CSV: a header row, the first column a file path relative to the image folder,
   * then one column per attribute. With `a`/`b` values the groups are the rows equal to them;
   * without, a numeric column splits by sign (> 0 vs < 0, as LFW's attribute scores) and a
   * yes/no column by truth (1/true/yes vs 0/false/no). Empty cells belong to neither group.
   */
  | { kind: 'csv'; file: string; column: string; a?: string; b?: string };

/** Row indices of the two groups of a rule in `images`. */
export interface Groups {
  a: number[];
  b: number[];
  /** Names for messages and the vector's name. */
  names: { a: string; b: string };
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'y']);
const FALSE_WORDS = new Set(['0', '-1', 'false', 'no', 'n']);

/** Split a CSV line on commas, honouring double quotes. */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

/** Which group a CSV cell puts its row in. */
function csvGroup(value: string, rule: Extract<GroupRule, { kind: 'csv' }>): 'a' | 'b' | undefined {
  if (value === '') return undefined;
  if (rule.a !== undefined || rule.b !== undefined) return value === rule.a ? 'a' : value === rule.b ? 'b' : undefined;
  const lower = value.toLowerCase();
  if (TRUE_WORDS.has(lower)) return 'a';
  if (FALSE_WORDS.has(lower)) return 'b';
  const number = Number(value);
  if (!Number.isFinite(number)) {
    throw new AekitError('BAD_DATA', `'${value}' is neither a number nor yes/no; give the two values that form the groups`, { where: `${rule.file}: column ${rule.column}` });
  }
  return number > 0 ? 'a' : number < 0 ? 'b' : undefined;
}

/** Normalise a relative path for matching CSV rows to image files (slashes, no leading ./). */
function normalisePath(file: string): string {
  return path.posix.normalize(file.replace(/\\/g, '/')).replace(/^\.\//, '');
}

/**
 * The two groups of a rule among `images` (a folder's images: their class names and files).
 * @throws AekitError BAD_ARGUMENT when a group is empty (listing the classes or values there are);
 *   BAD_DATA / FILE_NOT_FOUND for an unreadable CSV or a missing column.
 */
export async function selectGroups(images: LatentImages, rule: GroupRule): Promise<Groups> {
  const a: number[] = [];
  const b: number[] = [];
  if (rule.kind === 'folders') {
    const inFolder = (cls: string, name: string) => cls === name || cls.startsWith(`${name}/`);
    for (let i = 0; i < images.count; i++) {
      const cls = images.classNames[images.labels[i]] ?? '';
      if (inFolder(cls, rule.a)) a.push(i);
      else if (inFolder(cls, rule.b)) b.push(i);
    }
    for (const [name, group] of [[rule.a, a], [rule.b, b]] as const) {
      if (group.length === 0) throw new AekitError('BAD_ARGUMENT', `no images in folder '${name}'; the folders are: ${images.classNames.join(', ')}`, { where: images.name });
    }
    return { a, b, names: { a: rule.a, b: rule.b } };
  }
  if (!images.files) throw new AekitError('BAD_ARGUMENT', 'a labels CSV needs images read from a folder (their file names join the CSV rows)', { where: rule.file });
  let text: string;
  try {
    text = await fs.readFile(rule.file, 'utf8');
  } catch {
    throw new AekitError('FILE_NOT_FOUND', 'cannot read the labels CSV', { where: rule.file });
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = csvCells(lines[0] ?? '');
  const column = header.indexOf(rule.column);
  if (column <= 0) {
    throw new AekitError('BAD_DATA', `no attribute column '${rule.column}' (the first column is the file); columns: ${header.slice(1).join(', ')}`, { where: rule.file });
  }
  const groupOf = new Map<string, 'a' | 'b' | undefined>();
  for (const [n, line] of lines.slice(1).entries()) {
    const cells = csvCells(line);
    if (cells.length <= column) throw new AekitError('BAD_DATA', `row ${n + 2} has ${cells.length} cells, expected ${header.length}`, { where: rule.file });
    groupOf.set(normalisePath(cells[0]), csvGroup(cells[column], rule));
  }
  images.files.forEach((file, i) => {
    const group = groupOf.get(normalisePath(file));
    if (group === 'a') a.push(i);
    else if (group === 'b') b.push(i);
  });
  const names = { a: rule.a ?? rule.column, b: rule.b ?? `not ${rule.column}` };
  for (const [name, group] of [[names.a, a], [names.b, b]] as const) {
    if (group.length === 0) throw new AekitError('BAD_ARGUMENT', `no image of the folder is in group '${name}' of column '${rule.column}' (${groupOf.size} CSV rows, ${images.count} images)`, { where: rule.file });
  }
  return { a, b, names };
}

/** Mean of the code rows `rows` of `codes` (count x size). */
function meanCode(codes: Float32Array, size: number, rows: readonly number[]): number[] {
  const mean = new Array<number>(size).fill(0);
  for (const r of rows) for (let j = 0; j < size; j++) mean[j] += codes[r * size + j];
  return mean.map((v) => v / rows.length);
}

/**
 * The attribute vector mean(code | group a) - mean(code | group b) of `images` under the
 * encoder. Conditional encoders get each image's class label.
 */
export async function attributeVector(model: LatentModel, images: LatentImages, groups: Groups): Promise<AttributeVector> {
  const size = model.latentSize;
  const codes = await model.encode(images.images, images.count, model.numClasses > 0 ? images.labels : undefined);
  const meanA = meanCode(codes, size, groups.a);
  const meanB = meanCode(codes, size, groups.b);
  return {
    format: 'aekit-latent-vector',
    version: 1,
    name: `${groups.names.a} - ${groups.names.b}`,
    latentSize: size,
    vector: meanA.map((v, j) => v - meanB[j]),
    meanA,
    meanB,
    counts: { a: groups.a.length, b: groups.b.length },
    encoder: { file: path.basename(model.encoderPath), runId: model.metadata.runId },
  };
}

/** Check parsed JSON is an attribute vector for codes of `latentSize`. */
export function parseAttributeVector(value: unknown, where: string, latentSize: number): AttributeVector {
  const v = value as Partial<AttributeVector> | null;
  if (v?.format !== 'aekit-latent-vector' || !Array.isArray(v.vector)) {
    throw new AekitError('BAD_DATA', "not an aekit attribute vector (expected format 'aekit-latent-vector'; write one with `aekit latent vector`)", { where });
  }
  if (v.vector.length !== latentSize) throw new AekitError('BAD_DATA', `the vector has ${v.vector.length} values, the encoder's codes ${latentSize}`, { where });
  return v as AttributeVector;
}

/** Strengths an attribute vector is applied with by default: none (the plain reconstruction) to 1.5 times. */
export const DEFAULT_VECTOR_SCALES: readonly number[] = [0, 0.5, 1, 1.5];

/**
 * Add `scale * vector` to the code of every image and decode: images (count x scales.length,
 * image-major: row i holds image i at each scale) NHWC in [0, 1]. Scale 0 is the reconstruction.
 */
export async function applyAttributeVector(model: LatentModel, images: LatentImages, vector: AttributeVector, scales: readonly number[] = DEFAULT_VECTOR_SCALES): Promise<Float32Array> {
  const size = model.latentSize;
  if (vector.vector.length !== size) throw new AekitError('BAD_ARGUMENT', `the vector has ${vector.vector.length} values, the encoder's codes ${size}`);
  const labels = model.numClasses > 0 ? images.labels : undefined;
  const codes = await model.encode(images.images, images.count, labels);
  const shifted = new Float32Array(images.count * scales.length * size);
  for (let i = 0; i < images.count; i++) {
    scales.forEach((s, k) => {
      const row = (i * scales.length + k) * size;
      for (let j = 0; j < size; j++) shifted[row + j] = codes[i * size + j] + s * vector.vector[j];
    });
  }
  const repeatedLabels = labels ? Int32Array.from({ length: images.count * scales.length }, (_, r) => labels[Math.floor(r / scales.length)]) : undefined;
  return model.decode(shifted, images.count * scales.length, repeatedLabels);
}
