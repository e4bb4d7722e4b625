import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { AekitError } from '../core/errors';
import type { ImageDataset } from './types';
import { checkInt } from './validate';

/**
 * The IDX format of MNIST, Fashion-MNIST and EMNIST (http://yann.lecun.com/exdb/mnist/):
 * two zero bytes, a type byte, a dimension-count byte, one big-endian uint32 per dimension, then
 * the values, big-endian, row-major.
 */

/** Element type of an IDX file. */
export type IdxDataType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** Values of an IDX file, in the platform's byte order. */
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file. */
export interface IdxFile {
  dims: number[];
  dataType: IdxDataType;
  /** product(dims) values, row-major. */
  data: IdxArray;
}

interface IdxType {
  name: IdxDataType;
  size: number;
  read(view: DataView, offset: number, count: number): IdxArray;
}

function reader<T extends IdxArray>(
  Ctor: new (n: number) => T,
  get: (view: DataView, offset: number) => number,
  size: number,
): (view: DataView, offset: number, count: number) => IdxArray {
  return (view, offset, count) => {
    const out = new Ctor(count);
    for (let i = 0; i < count; i++) out[i] = get(view, offset + i * size);
    return out;
  };
}

/** Type byte -> element type. The values are fixed by the format. */
const IDX_TYPES: ReadonlyMap<number, IdxType> = new Map<number, IdxType>([
  // One byte per value: no byte order to fix, so copy the bytes directly.
  [0x08, { name: 'uint8', size: 1, read: (v, o, n) => new Uint8Array(v.buffer.slice(v.byteOffset + o, v.byteOffset + o + n)) }],
  [0x09, { name: 'int8', size: 1, read: (v, o, n) => new Int8Array(v.buffer.slice(v.byteOffset + o, v.byteOffset + o + n)) }],
  [0x0b, { name: 'int16', size: 2, read: reader(Int16Array, (v, o) => v.getInt16(o, false), 2) }],
  [0x0c, { name: 'int32', size: 4, read: reader(Int32Array, (v, o) => v.getInt32(o, false), 4) }],
  [0x0d, { name: 'float32', size: 4, read: reader(Float32Array, (v, o) => v.getFloat32(o, false), 4) }],
  [0x0e, { name: 'float64', size: 8, read: reader(Float64Array, (v, o) => v.getFloat64(o, false), 8) }],
]);

const GZIP_MAGIC = [0x1f, 0x8b];

/** Reads a file, throwing FILE_NOT_FOUND (rather than a bare ENOENT) when it is missing. */
export function readFileOrThrow(path: string, what: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AekitError('FILE_NOT_FOUND', `${what} not found`, { where: path, cause: error });
    if (code === 'EISDIR') throw new AekitError('BAD_ARGUMENT', `expected ${what}, found a directory`, { where: path });
    throw new AekitError('BAD_DATA', `cannot read ${what}: ${(error as Error).message}`, { where: path, cause: error });
  }
}

/**
 * Reads an IDX file. Gzip-compressed files (as distributed, `.gz`) are recognised by their magic
 * bytes and decompressed transparently, whatever their name.
 * @throws AekitError FILE_NOT_FOUND if missing; BAD_DATA for a bad header or a size that does not
 *   match the header (truncated or oversized file).
 */
export function readIdx(path: string): IdxFile {
  let bytes = readFileOrThrow(path, 'IDX file');
  const gzipped = bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
  if (gzipped) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (error) {
      throw new AekitError('BAD_DATA', `corrupt gzip stream: ${(error as Error).message}`, { where: path, cause: error });
    }
  }
  const bad = (message: string) => new AekitError('BAD_DATA', `not a valid IDX file: ${message}`, { where: path });
  if (bytes.length < 4) throw bad(`file is ${bytes.length} bytes, shorter than the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw bad(`magic number must start with two zero bytes, found 0x${bytes.subarray(0, 4).toString('hex')}`);
  }
  const type = IDX_TYPES.get(bytes[2]);
  if (!type) {
    const known = [...IDX_TYPES].map(([code, t]) => `0x${code.toString(16).padStart(2, '0')} (${t.name})`);
    throw bad(`unknown type byte 0x${bytes[2].toString(16).padStart(2, '0')}; expected one of ${known.join(', ')}`);
  }
  const rank = bytes[3];
  if (rank === 0) throw bad('dimension count is 0');
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize) {
    throw bad(`header declares ${rank} dimensions (${headerSize} bytes) but the file is ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerSize + count * type.size;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'oversized';
    throw bad(
      `${what}: dims [${dims.join(', ')}] of ${type.name} need ${expected} bytes, ` +
        `found ${bytes.length}${gzipped ? ' after decompression' : ''}`,
    );
  }
  return { dims, dataType: type.name, data: type.read(view, headerSize, count) };
}

/** Options of {@link loadIdxDataset}. */
export interface IdxDatasetOptions {
  /** Keep only the first `limit` images (all when larger than the file). */
  limit?: number;
  /**
   * Transpose every image. EMNIST stores images column-major (transposed relative to MNIST), so
   * without this its letters appear mirrored and rotated.
   */
  transpose?: boolean;
}

/**
 * Loads an image/label pair of IDX files (MNIST layout: uint8 images [count, height, width],
 * labels [count]) as a grayscale dataset with values /255. Class names are the label values as
 * strings, '0' up to the largest label (EMNIST letters, labelled 1..26, get an unused class '0').
 * @throws AekitError BAD_DATA when the shapes or types are not those of an image/label pair or the
 *   counts disagree; see also {@link readIdx}.
 */
export function loadIdxDataset(
  imagesPath: string,
  labelsPath: string,
  name: string,
  opts: IdxDatasetOptions = {},
): ImageDataset {
  if (opts.limit !== undefined) checkInt(opts.limit, 'limit', 1);
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (images.dataType !== 'uint8' || images.dims.length !== 3) {
    throw new AekitError(
      'BAD_DATA',
      `expected uint8 images with dims [count, height, width], found ${images.dataType} [${images.dims.join(', ')}]`,
      { where: imagesPath },
    );
  }
  if (labels.dims.length !== 1 || labels.dataType === 'float32' || labels.dataType === 'float64') {
    throw new AekitError(
      'BAD_DATA',
      `expected integer labels with dims [count], found ${labels.dataType} [${labels.dims.join(', ')}]`,
      { where: labelsPath },
    );
  }
  const [fileCount, height, width] = images.dims;
  if (labels.dims[0] !== fileCount) {
    throw new AekitError(
      'BAD_DATA',
      `image and label counts differ: ${imagesPath} has ${fileCount} images, ${labelsPath} has ${labels.dims[0]} labels`,
      { where: labelsPath },
    );
  }
  const count = Math.min(fileCount, opts.limit ?? fileCount);
  const pixels = height * width;
  const src = images.data;
  const out = new Float32Array(count * pixels);
  if (opts.transpose) {
    for (let n = 0; n < count; n++) {
      const base = n * pixels;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) out[base + x * height + y] = src[base + y * width + x] / 255;
      }
    }
  } else {
    for (let i = 0; i < out.length; i++) out[i] = src[i] / 255;
  }
  // Class names come from the whole file so that a limited slice keeps the full class list.
  let maxLabel = -1;
  for (const label of labels.data) {
    if (label < 0) throw new AekitError('BAD_DATA', `negative label ${label}`, { where: labelsPath });
    maxLabel = Math.max(maxLabel, label);
  }
  const labelArray = Int32Array.from(labels.data.subarray(0, count));
  const classNames = Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  return {
    name,
    images: out,
    labels: labelArray,
    count,
    height: opts.transpose ? width : height,
    width: opts.transpose ? height : width,
    channels: 1,
    classNames,
  };
}
