/**
 * A small builder of ONNX graphs out of onnx-proto's protobuf objects, plus the tensor encodings
 * (float32, float16, int64) the converter needs. Nothing here knows about tfjs.
 */
import { onnx } from 'onnx-proto';

/** Element types the converter emits. */
export type OnnxElementType = 'float32' | 'float16' | 'int32' | 'int64';

const DATA_TYPE: Readonly<Record<OnnxElementType, onnx.TensorProto.DataType>> = Object.freeze({
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
});

/** ONNX's enum value for an element type. */
export function onnxDataType(type: OnnxElementType): onnx.TensorProto.DataType {
  return DATA_TYPE[type];
}

/**
 * An attribute value: a number is an INT, `{ f }` a FLOAT (explicit, so that a whole-number float
 * such as ELU's alpha 1 is not written as an INT), an array INTS, `{ floats }` FLOATS.
 */
export type AttributeValue = number | string | number[] | { f: number } | { floats: number[] };

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer; use { f }`);
    return { name, type: T.INT, i: value };
  }
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats };
  return { name, type: T.FLOAT, f: value.f };
}

/** Node attributes by name. */
export type Attributes = Record<string, AttributeValue>;

/** Number out of a protobuf int64 field (number or Long). */
export function int64ToNumber(value: number | { toString(): string } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : Number(value.toString());
}

/** Little-endian bytes of a typed array (copied, so the proto owns its data). */
function bytesOf(data: Float32Array | Int32Array | BigInt64Array | Uint16Array): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

/** A TensorProto with its data in `raw_data`. */
export function tensorProto(
  name: string,
  type: OnnxElementType,
  dims: readonly number[],
  data: Float32Array | Int32Array | BigInt64Array | Uint16Array,
): onnx.TensorProto {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new Error(`tensor ${name}: ${data.length} values for dims [${dims.join(', ')}] (${expected} expected)`);
  }
  return onnx.TensorProto.create({ name, dataType: DATA_TYPE[type], dims: [...dims], rawData: bytesOf(data) });
}

/** A dimension: a number, or a string for a symbolic one ('batch'). */
export type OnnxDim = number | string;

/** A graph input/output declaration. */
export function valueInfo(name: string, type: OnnxElementType, shape: readonly OnnxDim[]): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/**
 * Collects nodes and initializers with unique names. Weights (learned parameters) are kept apart
 * from constants (shapes, scales) because fp16 conversion applies to the former only.
 */
export class OnnxGraphBuilder {
  readonly nodes: onnx.NodeProto[] = [];
  readonly initializers: onnx.TensorProto[] = [];
  /** Names of initializers holding learned float weights. */
  readonly weightNames = new Set<string>();
  private readonly used = new Set<string>();
  private readonly cache = new Map<string, string>();

  /** Reserve `base` (or `base_1`, `base_2`, ...) as a value name. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Mark a name as taken (graph inputs). */
  reserve(name: string): void {
    if (this.used.has(name)) throw new Error(`value name '${name}' is used twice`);
    this.used.add(name);
  }

  /**
   * A learned float32 weight. `key` identifies the source variable, so a layer applied twice
   * (shared weights) stores its weights once.
   */
  weight(key: string, nameBase: string, dims: readonly number[], data: Float32Array): string {
    const cached = this.cache.get(`w:${key}`);
    if (cached) return cached;
    const name = this.unique(nameBase);
    this.initializers.push(tensorProto(name, 'float32', dims, data));
    this.weightNames.add(name);
    this.cache.set(`w:${key}`, name);
    return name;
  }

  /** A constant (shape, scales, pads); identical constants are stored once. */
  constant(nameBase: string, type: 'float32' | 'int64', dims: readonly number[], values: readonly number[]): string {
    const key = `c:${type}:${dims.join(',')}:${values.join(',')}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const name = this.unique(nameBase);
    const data = type === 'float32' ? Float32Array.from(values) : BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push(tensorProto(name, type, dims, data));
    this.cache.set(key, name);
    return name;
  }

  /** Append a node with one output named after `outputBase`; returns the output name. */
  node(opType: string, inputs: readonly string[], outputBase: string, attributes: Attributes = {}): string {
    const output = this.unique(outputBase);
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        name: output,
        input: [...inputs],
        output: [output],
        attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
      }),
    );
    return output;
  }

  /** An Identity node writing to an exact (already reserved) name, for graph outputs. */
  identity(input: string, output: string): void {
    this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', name: output, input: [input], output: [output] }));
  }

  /**
   * Rename a value everywhere (producer output and consumers). Used to give graph outputs their
   * public names without an extra Identity node.
   */
  rename(from: string, to: string): void {
    for (const node of this.nodes) {
      node.output = node.output.map((n) => (n === from ? to : n));
      node.input = node.input.map((n) => (n === from ? to : n));
      if (node.name === from) node.name = to;
    }
    this.used.add(to);
  }

  /** Whether a node (rather than a graph input or initializer) produces this value. */
  producedByNode(name: string): boolean {
    return this.nodes.some((n) => n.output.includes(name));
  }
}

// ---- float16 ----

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE 754 half-precision bits of a number, rounding to nearest even (as numpy's astype does). */
export function float16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: value = m * 2^-24 with m = (1.mantissa) * 2^(exponent - 126 + 24 - 24).
    const shift = 14 - e;
    if (shift > 24) return sign;
    const full = mantissa | 0x800000;
    let m = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && (m & 1) === 1)) m++;
    return sign | m;
  }
  let bits = sign | (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches infinity at the top).
  if (rest > 0x1000 || (rest === 0x1000 && (bits & 1) === 1)) bits++;
  return bits;
}

/** The number a half-precision bit pattern stands for. */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Float32 bytes (raw_data) of a float initializer, whatever field the producer used. */
export function float32Data(tensor: onnx.ITensorProto): Float32Array {
  if (tensor.rawData && tensor.rawData.length > 0) {
    const raw = tensor.rawData;
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }
  return Float32Array.from(tensor.floatData ?? []);
}
