/**
 * fp16 artifacts: learned weights stored as float16 initializers, each followed by a Cast back to
 * float32, so the graph computes in float32 and its inputs/outputs stay float32 (every runtime,
 * including onnxruntime-web's wasm EP, runs it) while the file is about half the size.
 */
import { onnx } from 'onnx-proto';
import { AekitError } from '../core/errors';
import { float16Bits, float16Value, float32Data, int64ToNumber, onnxDataType, tensorProto } from './onnx-graph';

/** Suffix of the float16 initializer that replaces a float32 weight. */
const FP16_SUFFIX = '_fp16';

/**
 * Replace the float32 initializers named in `weightNames` by float16 ones plus Cast nodes, in
 * place. Returns the largest absolute rounding error over all weights.
 *
 * @throws AekitError EXPORT_FAILED naming the weight when a value overflows float16 (|x| > 65504).
 */
export function convertWeightsToFloat16(model: onnx.ModelProto, weightNames: ReadonlySet<string>): { maxWeightError: number } {
  const graph = model.graph as onnx.GraphProto;
  const casts: onnx.NodeProto[] = [];
  let maxWeightError = 0;
  graph.initializer = graph.initializer.map((tensor) => {
    const name = tensor.name ?? '';
    if (!weightNames.has(name) || tensor.dataType !== onnx.TensorProto.DataType.FLOAT) return tensor;
    const values = float32Data(tensor);
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
        opType: 'Cast',
        name: `${name}/cast`,
        input: [halfName],
        output: [name],
        attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnxDataType('float32') }],
      }),
    );
    return tensorProto(halfName, 'float16', (tensor.dims ?? []).map(int64ToNumber), bits);
  });
  // Casts first keeps the node list topologically sorted, as ONNX requires.
  graph.node = [...casts, ...graph.node];
  return { maxWeightError };
}
