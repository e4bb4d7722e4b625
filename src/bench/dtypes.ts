/**
 * Element types the benchmark feeds and compares: ONNX's type numbers to onnxruntime's names, the
 * seeded values put in each, and every output read back as plain numbers for the agreement check.
 */
import { onnx } from 'onnx-proto';
import { AekitError } from '../core/errors';
import { HOST_DTYPES } from '../artifact/runtime';
import type { HostDtype, TypedHostTensor } from '../artifact/runtime';
import { float16Bits, float16Value } from '../export/onnx-graph';
import type { OutputTensor } from './worker';

const T = onnx.TensorProto.DataType;

/** ONNX `TensorProto.DataType` -> the element type onnxruntime's JavaScript API calls it. */
const DTYPE_OF_ONNX: ReadonlyMap<number, HostDtype> = new Map([
  [T.FLOAT, 'float32'],
  [T.FLOAT16, 'float16'],
  [T.DOUBLE, 'float64'],
  [T.INT32, 'int32'],
  [T.INT64, 'int64'],
  [T.INT8, 'int8'],
  [T.UINT8, 'uint8'],
  [T.BOOL, 'bool'],
]);

/**
 * The element type of a graph tensor from its ONNX type number.
 * @throws AekitError BAD_DATA naming the tensor and its type (by name, not number) when the
 *   benchmark cannot feed or compare it (string, bfloat16, uint16, complex, ...).
 */
export function dtypeOfOnnx(elemType: number | null | undefined, tensor: string, where: string): HostDtype {
  const dtype = elemType === null || elemType === undefined ? undefined : DTYPE_OF_ONNX.get(elemType);
  if (dtype) return dtype;
  // protobufjs enums map numbers back to names.
  const name = elemType === null || elemType === undefined ? 'undefined' : ((T as unknown as Record<number, string>)[elemType] ?? `#${elemType}`);
  throw new AekitError('BAD_DATA', `graph tensor '${tensor}' has element type ${name.toLowerCase()} (ONNX type ${elemType}); the benchmark handles ${HOST_DTYPES.join(', ')}`, { where });
}

/** Whether an element type holds integers (indices, counts, labels) rather than reals. */
export function isIntegerDtype(dtype: HostDtype): boolean {
  return dtype === 'int32' || dtype === 'int64' || dtype === 'int8' || dtype === 'uint8';
}

/**
 * A tensor of `dtype` holding `values` (already whole numbers for the integer types, 0 or 1 for
 * bool); float16 values are rounded to the nearest half.
 */
export function typedTensor(dtype: HostDtype, values: Float64Array, dims: number[]): TypedHostTensor {
  switch (dtype) {
    case 'float32':
      return { dtype, data: Float32Array.from(values), dims };
    case 'float16':
      return { dtype, data: Uint16Array.from(values, float16Bits), dims };
    case 'float64':
      return { dtype, data: values, dims };
    case 'int32':
      return { dtype, data: Int32Array.from(values), dims };
    case 'int64':
      return { dtype, data: BigInt64Array.from(values, (v) => BigInt(v)), dims };
    case 'int8':
      return { dtype, data: Int8Array.from(values), dims };
    case 'uint8':
      return { dtype, data: Uint8Array.from(values), dims };
    case 'bool':
      return { dtype, data: Uint8Array.from(values, (v) => (v ? 1 : 0)), dims };
  }
}

/**
 * An output as numbers for the agreement check: float32 as it is (no copy: aekit's artifacts),
 * float16 decoded to float32, every other type (int64 indices, bool) as float64, which holds every
 * int32 exactly and int64 up to 2^53.
 */
export function numericOutput(t: TypedHostTensor): OutputTensor {
  if (t.dtype === 'float32') return { data: t.data, dims: t.dims };
  if (t.dtype === 'float16') return { data: Float32Array.from(t.data, float16Value), dims: t.dims };
  if (t.dtype === 'int64') return { data: Float64Array.from(t.data, Number), dims: t.dims };
  return { data: Float64Array.from(t.data), dims: t.dims };
}
