/**
 * numpy's `.npy` and `.npz` files, read and written natively: pytorch-fid, clean-fid and TTUR
 * publish FID statistics as `.npz` (`mu`, `sigma`), a zip archive of one `.npy` file per array.
 * The `.npy` format is numpy's (numpy/lib/format.py, "NPY format"): the magic string `\x93NUMPY`,
 * a version, a Python-literal header `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`
 * padded to a multiple of 64 bytes, then the raw values.
 *
 * Floating-point arrays only (what statistics and features are): float16/32/64 in either byte order
 * and in C or Fortran order are read; float32 and float64 are written, little-endian, C order. Zip
 * members may be stored or deflated (`np.savez_compressed`); they are written stored, which
 * `np.load` reads as well, since float data barely compresses.
 */
import { unzipSync, zipSync } from 'fflate';
import type { Zippable } from 'fflate';
import { AekitError } from './errors';

/** The magic string that opens every `.npy` file. */
const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** numpy aligns the data to this many bytes (format.py's ARRAY_ALIGN). */
const NPY_ALIGN = 64;

/** A floating-point array as read from or written to a `.npy` file (always C order in memory). */
export interface NpyArray {
  /** The array's shape ([] for a scalar). */
  shape: number[];
  /** The values in C (row-major) order. */
  data: Float64Array | Float32Array;
}

/** True when `bytes` begin like a zip archive (what every `.npz` is). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6);
}

/** numpy's spelling of a shape: `(3,)`, `(3, 4)`, `()`. */
function shapeLiteral(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * One array as `.npy` bytes (format version 1.0, or 2.0 when the header does not fit 65,535 bytes),
 * little-endian, C order.
 * @throws AekitError BAD_ARGUMENT when the shape does not match the number of values.
 */
export function encodeNpy(array: NpyArray): Uint8Array {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (!array.shape.every((d) => Number.isInteger(d) && d >= 0) || count !== array.data.length) {
    throw new AekitError('BAD_ARGUMENT', `expected ${count} values for shape ${shapeLiteral(array.shape)}, found ${array.data.length}`, { where: 'encodeNpy' });
  }
  const descr = array.data instanceof Float64Array ? '<f8' : '<f4';
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeLiteral(array.shape)}, }`;
  const version = dict.length + 1 + 10 < 65536 ? 1 : 2;
  const prefix = version === 1 ? 10 : 12;
  const padded = Math.ceil((prefix + dict.length + 1) / NPY_ALIGN) * NPY_ALIGN;
  const headerLength = padded - prefix;
  const header = dict + ' '.repeat(headerLength - dict.length - 1) + '\n';
  const out = new Uint8Array(padded + array.data.byteLength);
  out.set(NPY_MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  const values = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  if (isLittleEndianHost()) out.set(values, padded);
  else writeSwapped(out, padded, array.data);
  return out;
}

/**
 * An array from `.npy` bytes (versions 1.0 to 3.0).
 * @throws AekitError BAD_DATA, naming `where`, for a file that is not `.npy`, a header it cannot
 *   parse, a dtype other than float16/32/64, or a size that disagrees with the shape.
 */
export function decodeNpy(bytes: Uint8Array, where: string): NpyArray {
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new AekitError('BAD_DATA', 'expected a numpy .npy array (starting with \\x93NUMPY), found other data', { where });
  }
  const version = bytes[6];
  if (version < 1 || version > 3) throw new AekitError('BAD_DATA', `expected .npy format version 1, 2 or 3, found ${version}`, { where });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = version === 1 ? 10 : 12;
  const headerLength = version === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (prefix + headerLength > bytes.length) throw new AekitError('BAD_DATA', `the .npy header claims ${headerLength} bytes, but the file has ${bytes.length}`, { where });
  const header = new TextDecoder(version === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(prefix, prefix + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new AekitError('BAD_DATA', `expected an .npy header with 'descr', 'fortran_order' and 'shape', found ${header.trim()}`, { where });
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new AekitError('BAD_DATA', `expected a shape of whole numbers, found (${shapeText})`, { where });
  const dtype = /^([<>=|])f([248])$/.exec(descr);
  if (!dtype) throw new AekitError('BAD_DATA', `expected a floating-point array (dtype <f8, <f4 or <f2), found dtype '${descr}'`, { where });
  const size = Number(dtype[2]);
  const bigEndian = dtype[1] === '>' || (dtype[1] === '=' && !isLittleEndianHost());
  const count = shape.reduce((a, b) => a * b, 1);
  const start = prefix + headerLength;
  if (bytes.length - start !== count * size) {
    throw new AekitError('BAD_DATA', `expected ${count} values of ${size} bytes for shape ${shapeLiteral(shape)}, found ${bytes.length - start} bytes of data`, { where });
  }
  const values = readFloats(new DataView(bytes.buffer, bytes.byteOffset + start, count * size), count, size, !bigEndian);
  return { shape, data: fortran === 'True' ? fortranToC(values, shape) : values };
}

/** `count` floats of `size` bytes into a Float64Array (float64 data) or Float32Array (float16/32). */
function readFloats(view: DataView, count: number, size: number, littleEndian: boolean): Float64Array | Float32Array {
  if (size === 8) {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, littleEndian);
    return out;
  }
  const out = new Float32Array(count);
  if (size === 4) {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, littleEndian);
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, littleEndian));
  }
  return out;
}

/** IEEE 754 half-precision bits as a number. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Values stored in Fortran (column-major) order, reordered to C order. */
function fortranToC<T extends Float64Array | Float32Array>(values: T, shape: readonly number[]): T {
  if (shape.length < 2) return values;
  const out = new (values.constructor as new (n: number) => T)(values.length);
  // Fortran strides: the first axis varies fastest.
  const fStrides = shape.map((_, axis) => shape.slice(0, axis).reduce((a, b) => a * b, 1));
  const index = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < values.length; c++) {
    let f = 0;
    for (let axis = 0; axis < shape.length; axis++) f += index[axis] * fStrides[axis];
    out[c] = values[f];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
  return out;
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function writeSwapped(out: Uint8Array, offset: number, data: Float64Array | Float32Array): void {
  const view = new DataView(out.buffer, offset);
  const size = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < data.length; i++) {
    if (size === 8) view.setFloat64(i * 8, data[i], true);
    else view.setFloat32(i * 4, data[i], true);
  }
}

/**
 * An `.npz` archive (what `np.savez` writes) of `arrays` (each stored as `<name>.npy`) and `others`
 * (members stored under their own names, e.g. `aekit.json`).
 */
export function encodeNpz(arrays: Record<string, NpyArray>, others: Record<string, Uint8Array> = {}): Uint8Array {
  const members: Zippable = {};
  for (const [name, array] of Object.entries(arrays)) members[`${name}.npy`] = [encodeNpy(array), { level: 0 }];
  for (const [name, bytes] of Object.entries(others)) members[name] = [bytes, { level: 0 }];
  return zipSync(members);
}

/** An opened `.npz` archive: its arrays are decoded when asked for, so that one unreadable member does not stop the others being read. */
export class NpzArchive {
  private constructor(
    /** The file, for messages. */
    readonly where: string,
    private readonly members: Readonly<Record<string, Uint8Array>>,
  ) {}

  /**
   * Open `.npz` bytes (members stored or deflated).
   * @throws AekitError BAD_DATA, naming `where`, for data that is not a zip archive.
   */
  static open(bytes: Uint8Array, where: string): NpzArchive {
    if (!isZip(bytes)) throw new AekitError('BAD_DATA', 'expected a numpy .npz file (a zip archive), found other data', { where });
    try {
      return new NpzArchive(where, unzipSync(bytes));
    } catch (error) {
      throw new AekitError('BAD_DATA', `cannot read the .npz (zip) archive: ${(error as Error).message}`, { where, cause: error });
    }
  }

  /** Names of the arrays (members `<name>.npy`), as `np.load(...).files` lists them. */
  get arrayNames(): string[] {
    return Object.keys(this.members).filter((n) => n.endsWith('.npy')).map((n) => n.slice(0, -4));
  }

  /** True when the archive holds the array `name`. */
  hasArray(name: string): boolean {
    return `${name}.npy` in this.members;
  }

  /**
   * The array `name`.
   * @throws AekitError BAD_DATA naming the member when it is missing or not a floating-point array.
   */
  array(name: string): NpyArray {
    const member = this.members[`${name}.npy`];
    if (!member) throw new AekitError('BAD_DATA', `expected an array '${name}', found ${this.arrayNames.map((n) => `'${n}'`).join(', ') || 'no arrays'}`, { where: this.where });
    return decodeNpy(member, `${this.where}: ${name}.npy`);
  }

  /** A member that is not an array (e.g. `aekit.json`), by its full name. */
  other(name: string): Uint8Array | undefined {
    return this.members[name];
  }
}
