/**
 * fp16 artifacts: learned weights stored as float16 initializers, each followed by a Cast back to
 * float32, so the graph computes in float32 and its inputs/outputs stay float32 (every runtime,
 * including onnxruntime-web's wasm EP, runs it) while the file is about half the size.
 */
import { onnx } from 'onnx-proto';
import { AekitError } from '../core/errors';
import { float16Bits, float16Value, float32Data, int64ToNumber, onnxDataType, tensorProto } from './onnx-graph';

/**
 * Weights with fewer values stay float32: each converted weight costs a Cast node naming it twice
 * (about 100 bytes with tfjs's long layer names), more than halving a small bias saves (2 bytes
 * per value). Measured on the export tests: below ~60 values the file grew.
 */
export const FP16_MIN_ELEMENTS = 128;

/** Suffix of the float16 initializer that replaces a float32 weight. */
const FP16_SUFFIX = '_fp16';

/**
 * Replace the float32 initializers named in `weightNames` (with at least
 * {@link FP16_MIN_ELEMENTS} values) by float16 ones plus Cast nodes, in place. Returns how many
 * were converted and the largest absolute rounding error over them.
 *
 * @throws AekitError EXPORT_FAILED naming the weight when a value overflows float16 (|x| > 65504).
 */
export function convertWeightsToFloat16(
  model: onnx.ModelProto,
  weightNames: ReadonlySet<string>,
): { maxWeightError: number; converted: number; keptFloat32: number } {
  const graph = model.graph as onnx.GraphProto;
  const casts: onnx.NodeProto[] = [];
  let maxWeightError = 0;
  let keptFloat32 = 0;
  graph.initializer = graph.initializer.map((tensor) => {
    const name = tensor.name ?? '';
    if (!weightNames.has(name) || tensor.dataType !== onnx.TensorProto.DataType.FLOAT) return tensor;
    const values = float32Data(tensor);
    if (values.length < FP16_MIN_ELEMENTS) {
      keptFloat32++;
      return tensor;
    }
    const bits = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) {
      bits[i] = float16Bits(values[i]);
      const error = Math.abs(float16Value(bits[i]) - values[i]);
      if (!Number.isFinite(error)) {
        throw new AekitError('EXPORT_FAILED', `value ${values[i]} does not fit in float16`, { where: `weight '${name}'` });
      }
      if (error > maxWeightError) maxWeightError = error;
    }
    const halfName = `${name}${FP16_SUFFIX}`;
    casts.push(
      onnx.NodeProto.create({
        // No node name: it is optional, and would repeat the weight's name a third time.
        opType: 'Cast',
        input: [halfName],
        output: [name],
        attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnxDataType('float32') }],
      }),
    );
    return tensorProto(halfName, 'float16', (tensor.dims ?? []).map(int64ToNumber), bits);
  });
  // Casts first keeps the node list topologically sorted, as ONNX requires.
  graph.node = [...casts, ...graph.node];
  return { maxWeightError, converted: casts.length, keptFloat32 };
}
